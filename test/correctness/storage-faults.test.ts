import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { createDb } from "../../src/db/client";
import type { RunPageJob } from "../../src/queue/messages";
import { getIntegration } from "../../src/integrations/store";
import { handleImportPage } from "../../src/runs/import";
import { handleRunPage } from "../../src/runs/page";
import { createTenant, eventually, recordingQueue } from "../helpers";
import { emu, resetEmulator } from "../emulators/helpers";
import { connectThroughProvider, createIntegration } from "../integrations/helpers";

/** D1 whose next `failures` batches fail as a passing storage fault does (the rest is the real D1). */
function flakyD1(real: D1Database, failures: number): D1Database {
  let left = failures;
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (left-- > 0) throw new Error("D1_ERROR: Network connection lost.");
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The hub's own fetch with the queues replaced by recorders: nothing runs on its own. */
async function request(path: string, init: RequestInit) {
  const { queue, sent } = recordingQueue();
  const ctx = createExecutionContext();
  const res = await createApp().request(path, init, { ...env, JOBS: queue, PUSH_BATCHES: queue }, ctx);
  await waitOnExecutionContext(ctx);
  return { res, sent };
}

describe("#29.3 a storage failure never moves an import on", () => {
  it("when D1 fails for a moment the slice is tried again whole: every planned row is imported, none counted failed", async () => {
    // (A row the failed attempt wrote counts as unchanged when the slice is tried again.)
    const t = await createTenant();
    const csv = ["Email,First Name", ...Array.from({ length: 40 }, (_, i) => `f${i}@fault.example,F${i}`)].join("\n");
    const auth = { authorization: `Bearer ${t.apiKey}` };
    const uploaded = await request("/v1/imports", { method: "POST", headers: { ...auth, "content-type": "text/csv" }, body: csv });
    const { id } = (await uploaded.res.json()) as { id: string };
    const applied = await request(`/v1/imports/${id}/apply`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ mapping: { Email: "email", "First Name": "firstName" } }) });
    expect(applied.res.status).toBe(202);
    const job = applied.sent.find((m): m is RunPageJob => m.kind === "run")!;
    // The first three batches fail: the bulk write, its group fallback, and one person's own write.
    const db = createDb(flakyD1(env.DB, 3));
    let failures = 0;
    for (let page = job.page; failures < 10; ) {
      try {
        await handleImportPage(db, env, { ...job, page });
      } catch {
        failures++;
        continue;
      }
      const run = (await env.DB.prepare("SELECT status, page, created, unchanged, failed FROM runs WHERE id = ?").bind(job.runId).first<{ status: string; page: number; created: number; unchanged: number; failed: number }>())!;
      if (run.status !== "running") {
        expect(run).toMatchObject({ status: "done", failed: 0 });
        expect(run.created + run.unchanged).toBe(40);
        break;
      }
      page = run.page;
    }
    expect(failures).toBeGreaterThan(0);
    const people = await env.DB.prepare("SELECT count(*) AS n FROM directory_users WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(people!.n).toBe(40);
  });
});

describe("#29.3 a storage failure never moves a pull on", () => {
  it("when D1 fails for a moment a full pull's page is read again whole: every employee is in the directory, none counted failed", async () => {
    await resetEmulator();
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-people" });
    await connectThroughProvider(t, i.id, "admin@acme.example");
    // The first full pull (through the real queue) ends; then People gains 30 employees.
    await eventually(async () => ((await env.DB.prepare("SELECT count(*) AS n FROM runs WHERE integration_id = ? AND status = 'running'").bind(i.id).first<{ n: number }>())!.n === 0 ? true : undefined), 60_000);
    await emu("/_emulator/zoho/people", { method: "POST", json: { count: 30, domain: "faults.example" } });
    const auth = { authorization: `Bearer ${t.apiKey}` };
    const started = await request(`/v1/integrations/${i.id}/resync`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "{}" });
    expect(started.res.status).toBe(202);
    const job = started.sent.find((m): m is RunPageJob => m.kind === "run")!;
    const db = createDb(flakyD1(env.DB, 3));
    const integration = (await getIntegration(createDb(env.DB), t.id, i.id))!;
    let failures = 0;
    let page = job.page;
    for (let tries = 0; tries < 30; tries++) {
      try {
        await handleRunPage(db, env, { ...job, page }, integration);
      } catch {
        failures++;
        continue;
      }
      const run = (await env.DB.prepare("SELECT status, page, failed FROM runs WHERE id = ?").bind(job.runId).first<{ status: string; page: number; failed: number }>())!;
      if (run.status !== "running") {
        expect(run).toMatchObject({ status: "done", failed: 0 });
        break;
      }
      page = run.page;
    }
    expect(failures).toBeGreaterThan(0);
    const staff = await env.DB.prepare("SELECT count(*) AS n FROM directory_users WHERE tenant_id = ? AND email LIKE '%@faults.example'").bind(t.id).first<{ n: number }>();
    expect(staff!.n).toBe(30);
  }, 90_000);
});
