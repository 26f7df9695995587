import { createExecutionContext, createMessageBatch, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { createDb } from "../../src/db/client";
import { applyChange, type Change } from "../../src/directory/ingest";
import type { JobMessage, PushJob } from "../../src/queue/messages";
import { tenantBursts } from "../../src/lib/bursts";
import { resetEmulator } from "../emulators/helpers";
import { createTenant, insertIntegration, observedQueue } from "../helpers";
import { connectedCrm, contacts, link } from "./helpers";

beforeEach(() => resetEmulator(false));

const change = (id: string): Change => ({ kind: "upsert", user: { id, email: `${id}@lanes.example`, lastName: id }, at: Date.now(), reason: "rest" });

// Issue #20: event → record under a second at 10 a second, and full batches of 100 at
// saturation. A change that arrives alone goes to JOBS, whose consumer does not wait for a
// batch to fill; the changes of a burst go to PUSH_BATCHES, whose 2-second window fills it.
describe("push lanes", () => {
  it("a change that arrives alone is queued to be pushed at once; the changes of a burst wait for full batches", async () => {
    const t = await createTenant();
    const integrationId = await insertIntegration(t.id, "active");
    const now = observedQueue(env.JOBS);
    const batched = observedQueue(env.PUSH_BATCHES);
    const db = createDb(env.DB);
    const ctx = createExecutionContext();
    const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);

    await applyChange(db, { batched: batched.queue, now: now.queue }, t.id, change("alone"), { waitUntil });
    await waitOnExecutionContext(ctx);
    expect(now.batches.flat()).toEqual([expect.objectContaining({ kind: "push", integrationId, userId: "alone", lane: "now" })]);
    expect(batched.batches.flat()).toEqual([]);

    const burst = createExecutionContext();
    await Promise.all(Array.from({ length: 20 }, (_, i) => applyChange(db, { batched: batched.queue, now: now.queue }, t.id, change(`burst${i}`), { waitUntil: (p) => burst.waitUntil(p) })));
    await waitOnExecutionContext(burst);
    const jobs = batched.batches.flat() as PushJob[];
    expect(jobs.map((j) => j.userId).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `burst${i}`).sort());
    expect(jobs.every((j) => j.lane === undefined)).toBe(true);
    expect(now.batches.flat()).toHaveLength(1);
  });

  it("a job sent at once whose tenant is now in a burst joins the batching queue instead of spending a push of its own", async () => {
    const { t, integrationId } = await connectedCrm();
    await env.DB.prepare("INSERT INTO directory_users (tenant_id, id, email, email_lower, last_name, status, profile, version, source_updated_at, needs_push, created_at, updated_at) VALUES (?, 'u_lane', 'lane@lanes.example', 'lane@lanes.example', 'Lane', 'active', '{}', 1, 0, 0, 0, 0)")
      .bind(t.id)
      .run();
    const job: PushJob = { kind: "push", tenantId: t.id, integrationId, userId: "u_lane", version: 1, reason: "webhook", lane: "now" };
    const consume = async (jobs: JobMessage) => {
      const batched = observedQueue(env.PUSH_BATCHES);
      const batch = createMessageBatch<JobMessage>("usersync-jobs", [{ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: jobs }]);
      await worker.queue(batch, { ...env, PUSH_BATCHES: batched.queue });
      return batched.batches.flat();
    };

    for (let i = 0; i < 5; i++) tenantBursts.note(t.id);
    const forwarded = await consume(job);
    expect(forwarded).toEqual([{ kind: "push", tenantId: t.id, integrationId, userId: "u_lane", version: 1, reason: "webhook" }]);
    expect((await contacts("lane@lanes.example")).count).toBe(0);

    // Once the burst is over, the same job is pushed where it is consumed.
    await new Promise((r) => setTimeout(r, 300));
    expect(await consume(job)).toEqual([]);
    expect((await contacts("lane@lanes.example")).count).toBe(1);
    expect(await link(integrationId, "u_lane")).toMatchObject({ status: "synced" });
  });
});
