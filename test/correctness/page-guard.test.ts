import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { RunPageJob } from "../../src/queue/messages";
import { call, eventually } from "../helpers";
import { resetEmulator } from "../emulators/helpers";
import { connectedCrm, contacts, linkIn, runSettled, send } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

describe("14.13c the mass-change guard is checked on every page, not only when a run starts", () => {
  it("deletions that arrive after a run started hold it at its next page; approval lets it go on", async () => {
    const { t, integrationId } = await connectedCrm({ onDelete: "delete" });
    const ids = ["g1", "g2", "g3", "g4", "g5"];
    for (const id of ids) await send(t, "user.created", { id, email: `${id}@guard.example`, lastName: id });
    for (const id of ids) await linkIn(integrationId, id, ["synced"]);
    // A resync started while nothing was leaving (so not held at its start)…
    const runId = `run_guard_${Date.now()}`;
    await env.DB.prepare("INSERT INTO runs (id, tenant_id, integration_id, kind, status, trigger, started_at) VALUES (?, ?, ?, 'resync', 'running', 'api', ?)").bind(runId, t.id, integrationId, Date.now()).run();
    // …then two of five are deleted (40% > 20%), without jobs of their own, before its first page runs.
    await env.DB.prepare("UPDATE directory_users SET status = 'deleted', version = version + 1 WHERE tenant_id = ? AND id IN ('g1', 'g2')").bind(t.id).run();
    const page: RunPageJob = { kind: "run", tenantId: t.id, integrationId, runId, page: 0 };
    await env.JOBS.send(page, { contentType: "json" });
    const held = await eventually(async () => {
      const run = (await (await call(`/v1/runs/${runId}`, { token: t.apiKey })).json()) as { status: string; detail: string | null };
      return run.status === "held" ? run : undefined;
    }, 10_000);
    expect(held.detail).toContain("2 of 5 linked people (40%)");
    expect((await contacts()).count).toBe(5);

    expect((await call(`/v1/runs/${runId}/approve`, { method: "POST", token: t.apiKey })).status).toBe(200);
    expect(await runSettled(t, runId)).toMatchObject({ status: "done", approved: true, counts: expect.objectContaining({ disabled: 2 }) });
    expect((await contacts()).count).toBe(3);
  });
});
