import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { pickupInbox } from "../../src/runs/pickup";
import { call, createTenant, eventually, type TestTenant } from "../helpers";

async function saveMapping(t: TestTenant, body: Record<string, unknown>) {
  expect((await call("/v1/imports/mapping", { method: "PUT", json: body, token: t.apiKey })).status).toBe(200);
}

async function keys(prefix: string): Promise<string[]> {
  return (await env.FILES.list({ prefix })).objects.map((o) => o.key).sort();
}

async function report(key: string) {
  const object = await env.FILES.get(key);
  return object ? ((await object.json()) as Record<string, any>) : null;
}

describe("scheduled pickup from R2", () => {
  it("imports a file dropped in the inbox once, even when two ticks overlap, and files it under done/ with a report", async () => {
    const t = await createTenant();
    await saveMapping(t, { mapping: { Email: "email", Name: "firstName" }, mode: "partial" });
    await env.FILES.put(`inbox/${t.id}/people.csv`, "Email,Name\nada@pickup.example,Ada\ngrace@pickup.example,Grace\nbroken,Nobody\n");
    const db = createDb(env.DB);
    const [first, second] = await Promise.all([pickupInbox(db, env), pickupInbox(db, env)]);
    expect(first + second).toBe(1);
    await eventually(async () => ((await keys(`done/${t.id}/`)).length === 2 ? true : undefined), 30_000);
    expect(await keys(`done/${t.id}/`)).toEqual([`done/${t.id}/people.csv`, `done/${t.id}/people.csv.report.json`]);
    expect(await keys(`inbox/${t.id}/`)).toEqual([]);
    const r = await report(`done/${t.id}/people.csv.report.json`);
    expect(r).toMatchObject({ status: "applied", file: "people.csv", rows: 3, counts: { created: 2, failed: 1 }, errors: [{ row: 3, column: "Email", message: "broken is not an e-mail address." }] });
    const imports = (await (await call("/v1/imports", { token: t.apiKey })).json()) as { data: { id: string; status: string; runId: string }[] };
    expect(imports.data).toEqual([expect.objectContaining({ id: r!.importId, status: "applied", runId: r!.runId })]);
    const run = (await (await call(`/v1/runs/${r!.runId}`, { token: t.apiKey })).json()) as { trigger: string; kind: string };
    expect(run).toMatchObject({ trigger: "pickup", kind: "import" });
    // The next tick finds nothing to do.
    expect(await pickupInbox(db, env)).toBe(0);
  });

  it("files what it cannot import under failed/ with the reason: a binary file, and a tenant without a saved mapping", async () => {
    const t = await createTenant();
    await saveMapping(t, { mapping: { Email: "email" } });
    await env.FILES.put(`inbox/${t.id}/photo.csv`, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x0a, "\"".charCodeAt(0)]));
    const bare = await createTenant();
    await env.FILES.put(`inbox/${bare.id}/people.csv`, "Email\nada@x.example\n");
    await pickupInbox(createDb(env.DB), env);
    // Each file is planned through the queue: it moves when its first step reads it.
    await eventually(async () => ((await keys(`failed/${t.id}/`)).length === 2 && (await keys(`failed/${bare.id}/`)).length === 2 ? true : undefined), 30_000);
    expect(await keys(`failed/${t.id}/`)).toEqual([`failed/${t.id}/photo.csv`, `failed/${t.id}/photo.csv.report.json`]);
    expect(await report(`failed/${t.id}/photo.csv.report.json`)).toMatchObject({ status: "failed", detail: expect.stringContaining("not valid CSV") });
    expect(await report(`failed/${bare.id}/people.csv.report.json`)).toMatchObject({ status: "failed", detail: expect.stringContaining("No saved mapping") });
    expect(await keys(`inbox/${t.id}/`)).toEqual([]);
  });
});
