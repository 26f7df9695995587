import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { createTenant } from "../helpers";

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

  it("the every-minute cron leaves the records alone", async () => {
    const t = await createTenant();
    const old = Date.now() - 40 * 24 * 3600 * 1000;
    await env.DB.prepare(
      "INSERT INTO webhook_events (tenant_id, webhook_id, type, user_id, outcome, body, received_at) VALUES (?, 'old', 'user.created', 'u', 'applied', '{}', ?)",
    )
      .bind(t.id, old)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: new Date() }), env, ctx);
    await waitOnExecutionContext(ctx);
    const row = await env.DB.prepare("SELECT count(*) AS n FROM webhook_events WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(row?.n).toBe(1);
  });
});
