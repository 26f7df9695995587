import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { getIntegration } from "../../src/integrations/store";
import type { RunPageJob } from "../../src/queue/messages";
import { handleRunPage } from "../../src/runs/page";
import { cronTick, recordingQueue } from "../helpers";
import { resetEmulator, setFaults } from "../emulators/helpers";
import { connectedCrm, contacts } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

async function runRow(id: string) {
  return (await env.DB.prepare("SELECT status, page, moved_at FROM runs WHERE id = ?").bind(id).first<{ status: string; page: number; moved_at: number }>())!;
}

describe("#29.4 a page delivered twice runs once", () => {
  it("two deliveries of one page at once push it once and send the next page once; a late copy sends nothing", async () => {
    const { t, integrationId } = await connectedCrm();
    await env.DB.prepare("UPDATE integrations SET resync_due_at = ?1, reconcile_due_at = ?1 WHERE id = ?2").bind(Date.now() + 86_400_000, integrationId).run();
    const ids = Array.from({ length: 2100 }, (_, i) => `u_dup_${String(i).padStart(4, "0")}`);
    const now = Date.now();
    for (let i = 0; i < ids.length; i += 500) {
      await env.DB.prepare(
        "INSERT INTO directory_users (tenant_id, id, email, email_lower, last_name, status, profile, version, source_updated_at, needs_push, created_at, updated_at) SELECT ?1, value, value || '@dup.example', value || '@dup.example', 'Dup', 'active', '{}', 1, 0, 0, ?2, ?2 FROM json_each(?3)",
      )
        .bind(t.id, now, JSON.stringify(ids.slice(i, i + 500)))
        .run();
    }
    await env.DB.prepare("INSERT INTO runs (id, tenant_id, integration_id, kind, status, trigger, page, started_at, moved_at) VALUES ('run_dup', ?1, ?2, 'resync', 'running', 'api', 0, ?3, ?3)")
      .bind(t.id, integrationId, now)
      .run();
    const db = createDb(env.DB);
    const integration = (await getIntegration(db, t.id, integrationId))!;
    const q = recordingQueue();
    const job: RunPageJob = { kind: "run", tenantId: t.id, integrationId, runId: "run_dup", page: 0 };
    // Zoho answers slowly, so that the two copies overlap.
    await setFaults({ latencyMs: 200, services: ["zoho-crm"] });
    await Promise.all([handleRunPage(db, { ...env, JOBS: q.queue }, job, integration), handleRunPage(db, { ...env, JOBS: q.queue }, job, integration)]);
    await setFaults({});
    expect((await runRow("run_dup")).page).toBe(1);
    expect(q.pages()).toEqual([1]);
    expect((await contacts()).count).toBe(2000);

    // A copy that comes after the page moved on sends nothing (the cron resends a lost page).
    await handleRunPage(db, { ...env, JOBS: q.queue }, job, integration);
    expect(q.pages()).toEqual([1]);

    await handleRunPage(db, { ...env, JOBS: q.queue }, { ...job, page: 1 }, integration);
    expect(await runRow("run_dup")).toMatchObject({ status: "done", page: 2 });
    expect((await contacts()).count).toBe(2100);
  }, 60_000);

  it("a run whose integration is paused is not taken for stalled, so its page is not sent twice", async () => {
    const { t, integrationId } = await connectedCrm();
    await env.DB.prepare("UPDATE integrations SET resync_due_at = ?1, reconcile_due_at = ?1 WHERE id = ?2").bind(Date.now() + 86_400_000, integrationId).run();
    const now = Date.now();
    // Zoho paused the integration for ten minutes after a refused request; the page waits.
    await env.DB.prepare("UPDATE integrations SET paused_until = ? WHERE id = ?").bind(now + 10 * 60_000, integrationId).run();
    await env.DB.prepare("INSERT INTO runs (id, tenant_id, integration_id, kind, status, trigger, page, started_at, moved_at) VALUES ('run_paused', ?1, ?2, 'resync', 'running', 'api', 0, ?3, ?3)")
      .bind(t.id, integrationId, now)
      .run();
    await env.JOBS.send({ kind: "run", tenantId: t.id, integrationId, runId: "run_paused", page: 0 });
    // The consumer finds the integration paused and sends the page back to wait.
    const waiting = async () => (await runRow("run_paused")).moved_at;
    const deadline = Date.now() + 10_000;
    while ((await waiting()) === now && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await waiting()).toBeGreaterThanOrEqual(now + 9 * 60_000);
    // Six minutes on, the cron's stall sweep leaves it alone: the page waits on a known pause.
    const q = recordingQueue();
    await cronTick("* * * * *", new Date(now + 6 * 60_000), { ...env, JOBS: q.queue });
    expect(q.pages()).toEqual([]);
  }, 30_000);
});
