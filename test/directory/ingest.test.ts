import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { applyChange, applyChanges, type Change } from "../../src/directory/ingest";
import { createTenant, insertIntegration, observedQueue } from "../helpers";

function webhookChange(userId: string, webhookId: string): Change {
  return {
    kind: "upsert",
    user: { id: userId, email: `${userId}@example.com`, firstName: "Grace", lastName: userId },
    at: Date.now(),
    reason: "webhook",
    webhook: { id: webhookId, type: "user.created", body: "{}" },
  };
}

async function count(sql: string, ...params: unknown[]): Promise<number> {
  return (await env.DB.prepare(sql).bind(...params).first<number>("n"))!;
}

// Group commit: changes that arrive while a write is in flight share the next D1 batch
// and the next sendBatch. In one context the first change writes alone and every change
// submitted meanwhile makes the second group, so the grouping here is deterministic.
describe("grouped ingest", () => {
  it("changes arriving together are written in one batch and enqueued in one sendBatch, each exactly once", async () => {
    const t = await createTenant();
    const integrationId = await insertIntegration(t.id, "active");
    const observed = observedQueue(env.JOBS);
    const db = createDb(env.DB);
    const ctx = createExecutionContext();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => applyChange(db, { batched: observed.queue }, t.id, webhookChange(`u_g${i}`, `msg_g${i}`), { waitUntil: (p) => ctx.waitUntil(p) })),
    );
    await waitOnExecutionContext(ctx);

    expect(results.every((r) => r.outcome === "applied")).toBe(true);
    expect(await count("SELECT count(*) AS n FROM directory_users WHERE tenant_id = ?", t.id)).toBe(20);
    expect(await count("SELECT count(*) AS n FROM webhook_events WHERE tenant_id = ? AND outcome = 'applied'", t.id)).toBe(20);
    // The first change alone, then the 19 that waited for it, together.
    expect(observed.batches.map((b) => b.length)).toEqual([1, 19]);
    const jobs = observed.batches.flat();
    expect(new Set(jobs.map((j) => j.kind === "push" && j.userId)).size).toBe(20);
    expect(jobs.every((j) => j.kind === "push" && j.integrationId === integrationId && j.version === 1)).toBe(true);
  });

  it("the same webhook-id twice in one group applies once; the other answers duplicate", async () => {
    const t = await createTenant();
    const db = createDb(env.DB);
    const ctx = createExecutionContext();
    const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);
    const [first, a, b] = await Promise.all([
      applyChange(db, { batched: env.JOBS }, t.id, webhookChange("u_first", "msg_first"), { waitUntil }),
      applyChange(db, { batched: env.JOBS }, t.id, webhookChange("u_twice", "msg_twice"), { waitUntil }),
      applyChange(db, { batched: env.JOBS }, t.id, { ...webhookChange("u_twice", "msg_twice"), user: { id: "u_twice", email: "u_twice@example.com", firstName: "Changed" } }, { waitUntil }),
    ]);
    await waitOnExecutionContext(ctx);
    expect([first.outcome, a.outcome, b.outcome]).toEqual(["applied", "applied", "duplicate"]);
    const row = await env.DB.prepare("SELECT first_name, version FROM directory_users WHERE tenant_id = ? AND id = 'u_twice'").bind(t.id).first();
    expect(row).toEqual({ first_name: "Grace", version: 1 });
  });

  it("a change that cannot be written fails alone; the rest of its group is written", async () => {
    const t = await createTenant();
    const db = createDb(env.DB);
    const ctx = createExecutionContext();
    const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);
    const settled = await Promise.allSettled([
      applyChange(db, { batched: env.JOBS }, t.id, webhookChange("u_lead", "msg_lead"), { waitUntil }),
      applyChange(db, { batched: env.JOBS }, t.id, webhookChange("u_ok1", "msg_ok1"), { waitUntil }),
      // No such tenant: the foreign key refuses the row, which fails the group's atomic batch.
      applyChange(db, { batched: env.JOBS }, "t_nobody", webhookChange("u_orphan", "msg_orphan"), { waitUntil }),
      applyChange(db, { batched: env.JOBS }, t.id, webhookChange("u_ok2", "msg_ok2"), { waitUntil }),
    ]);
    await waitOnExecutionContext(ctx);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(String((settled[2] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/i);
    expect(await count("SELECT count(*) AS n FROM directory_users WHERE tenant_id = ?", t.id)).toBe(3);
    expect(await count("SELECT count(*) AS n FROM directory_users WHERE tenant_id = 't_nobody'")).toBe(0);
  });
});

// An import's slice goes through applyChanges, whose full users are written many to a
// statement: the same guards as one change at a time.
describe("bulk ingest", () => {
  it("writes many full users in one statement with applyChange's guards: older changes, remembered removals, kept and revived statuses", async () => {
    const t = await createTenant();
    const integrationId = await insertIntegration(t.id, "active");
    const db = createDb(env.DB);
    const ctx = createExecutionContext();
    const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);
    const rest = (id: string, at: number | null, extra: Partial<Change["user"]> = {}): Change => ({ kind: "upsert", user: { id, email: `${id}@example.com`, firstName: "Before", ...extra }, at, reason: "rest" });
    const now = Date.now();
    for (const c of [rest("newer", now + 60_000), rest("disabled", null, { status: "disabled" }), rest("deleted", null)]) await applyChange(db, { batched: env.JOBS }, t.id, c, { waitUntil });
    await applyChange(db, { batched: env.JOBS }, t.id, { kind: "delete", user: { id: "deleted", email: "deleted@example.com" }, at: null, reason: "rest" }, { waitUntil });
    // A removal of a person not held yet is remembered: an older create is stale.
    await applyChange(db, { batched: env.JOBS }, t.id, { kind: "delete", user: { id: "removed" }, at: now + 60_000, reason: "webhook", webhook: { id: "msg_removed", type: "user.deleted", body: "{}" } }, { waitUntil });
    const observed = observedQueue(env.JOBS);
    const changes = [
      rest("newer", now, { firstName: "Older" }),
      rest("removed", now),
      rest("disabled", null, { firstName: "After" }),
      rest("deleted", null, { firstName: "After" }),
      rest("fresh", null, { firstName: "After", status: "disabled" }),
      ...Array.from({ length: 450 }, (_, i) => rest(`many${i}`, null)),
    ];
    const results = await applyChanges(db, observed.queue, t.id, changes, { waitUntil });
    await waitOnExecutionContext(ctx);
    expect(results.slice(0, 5).map((r) => (r.status === "fulfilled" ? r.value.outcome : "failed"))).toEqual(["unchanged", "unchanged", "applied", "applied", "applied"]);
    const row = (id: string) => env.DB.prepare("SELECT first_name, status, version FROM directory_users WHERE tenant_id = ? AND id = ?").bind(t.id, id).first();
    expect(await row("newer")).toEqual({ first_name: "Before", status: "active", version: 1 });
    expect(await row("removed")).toBeNull();
    expect(await row("disabled")).toEqual({ first_name: "After", status: "disabled", version: 2 });
    expect(await row("deleted")).toEqual({ first_name: "After", status: "active", version: 3 });
    expect(await row("fresh")).toEqual({ first_name: "After", status: "disabled", version: 1 });
    expect(await count("SELECT count(*) AS n FROM directory_users WHERE tenant_id = ? AND id LIKE 'many%'", t.id)).toBe(450);
    // One push job per written person, for the active integration.
    const jobs = observed.batches.flat();
    expect(jobs.length).toBe(453);
    expect(jobs.every((j) => j.kind === "push" && j.integrationId === integrationId)).toBe(true);
  });
});
