import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { resetEmulator } from "../emulators/helpers";
import { call, cronTick, eventually } from "../helpers";
import { connectedCrm, contacts } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

// Found by the soak (issue #20): wrangler dev killed while a run's page message was in the
// queue left the run `running` for a day, and every resync asked for meanwhile got 409.
describe("a run whose page message was lost", () => {
  it("is sent on by the cron, finishes, and a new run can start", async () => {
    const { t, integrationId } = await connectedCrm();
    // The schedule is not due, and nothing is behind for the sweep: only the run can act.
    await env.DB.prepare("UPDATE integrations SET resync_due_at = ?1, reconcile_due_at = ?1 WHERE id = ?2").bind(Date.now() + 86_400_000, integrationId).run();
    const old = Date.now() - 10 * 60_000;
    await env.DB.batch([
      env.DB.prepare("INSERT INTO directory_users (tenant_id, id, email, email_lower, last_name, status, profile, version, source_updated_at, needs_push, created_at, updated_at) VALUES (?1, 'u_run', 'run@stalled.example', 'run@stalled.example', 'Stalled', 'active', '{}', 1, 0, 0, ?2, ?2)").bind(t.id, Date.now()),
      // Started ten minutes ago; its first page's message went with the process.
      env.DB.prepare("INSERT INTO runs (id, tenant_id, integration_id, kind, status, trigger, page, started_at) VALUES ('run_stalled', ?1, ?2, 'resync', 'running', 'api', 0, ?3)").bind(t.id, integrationId, old),
    ]);
    expect((await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", token: t.apiKey })).status).toBe(409);

    await cronTick();
    const run = await eventually(async () => {
      const r = (await (await call("/v1/runs/run_stalled", { token: t.apiKey })).json()) as { status: string; counts: Record<string, number> };
      return r.status === "running" ? undefined : r;
    }, 15_000);
    expect(run).toMatchObject({ status: "done", counts: { created: 1 } });
    expect((await contacts("run@stalled.example")).count).toBe(1);
    expect((await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", token: t.apiKey })).status).toBe(202);
  });
});
