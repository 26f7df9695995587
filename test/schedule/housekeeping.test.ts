import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { createTenant, cronTick } from "../helpers";

describe("housekeeping cron", () => {
  it("deletes webhook records older than 30 days and expired OAuth states, and keeps the rest", async () => {
    const t = await createTenant();
    const now = Date.now();
    const day = 24 * 3600 * 1000;
    const insert = env.DB.prepare(
      "INSERT INTO webhook_events (tenant_id, webhook_id, type, user_id, outcome, body, received_at) VALUES (?, ?, 'user.created', 'u', 'applied', '{}', ?)",
    );
    await env.DB.batch([insert.bind(t.id, "old", now - 31 * day), insert.bind(t.id, "recent", now - 29 * day)]);
    const state = env.DB.prepare("INSERT INTO oauth_states (nonce, tenant_id, integration_id, expires_at) VALUES (?, ?, 'int_x', ?)");
    await env.DB.batch([state.bind(`expired-${now}`, t.id, now - 1000), state.bind(`live-${now}`, t.id, now + 600_000)]);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "30 3 * * *", scheduledTime: new Date(now) }), env, ctx);
    await waitOnExecutionContext(ctx);

    const { results } = await env.DB.prepare("SELECT webhook_id FROM webhook_events WHERE tenant_id = ?").bind(t.id).all();
    expect(results.map((r) => r.webhook_id)).toEqual(["recent"]);
    const states = await env.DB.prepare("SELECT nonce FROM oauth_states WHERE tenant_id = ?").bind(t.id).all();
    expect(states.results.map((r) => r.nonce)).toEqual([`live-${now}`]);
  });

  it("trims sync logs past RETENTION_DAYS, oldest first, and fails runs that stopped without finishing", async () => {
    const t = await createTenant();
    const now = Date.now();
    const day = 24 * 3600 * 1000;
    const log = env.DB.prepare("INSERT INTO sync_logs (tenant_id, integration_id, user_id, action, status, at) VALUES (?, 'int_h', ?, 'update', 'ok', ?)");
    await env.DB.batch([log.bind(t.id, "old", now - 8 * day), log.bind(t.id, "older", now - 40 * day), log.bind(t.id, "new", now - 6 * day)]);
    // One open run of each kind (a second open run of a kind is refused by an index).
    const run = env.DB.prepare("INSERT INTO runs (id, tenant_id, integration_id, kind, status, trigger, started_at) VALUES (?, ?, 'int_h', ?, 'running', 'schedule', ?)");
    await env.DB.batch([run.bind(`run_stale_${now}`, t.id, "reconcile", now - 2 * day), run.bind(`run_live_${now}`, t.id, "resync", now - 60_000)]);

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "30 3 * * *", scheduledTime: new Date(now) }), { ...env, RETENTION_DAYS: "7" }, ctx);
    await waitOnExecutionContext(ctx);

    const { results } = await env.DB.prepare("SELECT user_id FROM sync_logs WHERE tenant_id = ?").bind(t.id).all();
    expect(results.map((r) => r.user_id)).toEqual(["new"]);
    const runs = await env.DB.prepare("SELECT id, status, detail FROM runs WHERE tenant_id = ? ORDER BY id").bind(t.id).all();
    expect(runs.results).toEqual([
      { id: `run_live_${now}`, status: "running", detail: null },
      { id: `run_stale_${now}`, status: "failed", detail: "Stopped without finishing." },
    ]);
  });

  it("the every-minute cron leaves the records alone", async () => {
    const t = await createTenant();
    const old = Date.now() - 40 * 24 * 3600 * 1000;
    await env.DB.prepare(
      "INSERT INTO webhook_events (tenant_id, webhook_id, type, user_id, outcome, body, received_at) VALUES (?, 'old', 'user.created', 'u', 'applied', '{}', ?)",
    )
      .bind(t.id, old)
      .run();
    await cronTick();
    const row = await env.DB.prepare("SELECT count(*) AS n FROM webhook_events WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(row?.n).toBe(1);
  });
});
