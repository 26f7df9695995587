import type { EventJob, JobMessage, JobReason, ImportPlanJob, PushJob, RunPageJob } from "./messages";

/**
 * Every send to a queue, in one place: what each message holds, which queue it goes on,
 * and the split into `sendBatch` calls the queues allow (at most 100 messages and 256 KB
 * a call). Two queues carry the messages (docs/architecture.md, "Queue messages"): `JOBS`
 * delivers at once; `PUSH_BATCHES` carries only push jobs, with a window that fills
 * batches of 100.
 */

/** The queues, as the Worker's bindings name them. */
export interface JobQueues {
  JOBS: Queue<JobMessage>;
  PUSH_BATCHES: Queue<PushJob>;
}

/** Cloudflare Queues: at most 100 messages in one `sendBatch`. */
export const MAX_BATCH_MESSAGES = 100;
/** Cloudflare Queues: at most 256 KB in one `sendBatch`; a margin is kept for each message's envelope. */
export const MAX_BATCH_BYTES = 256 * 1000;
const ENVELOPE_BYTES = 200;

const encoder = new TextEncoder();

/**
 * Splits items into the batches one `sendBatch` takes: at most 100 messages and 256 KB
 * each, in order. `bodyOf` names the message body of an item (the item itself by default).
 */
export function batchesOf<T>(items: T[], bodyOf: (item: T) => unknown = (item) => item): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = encoder.encode(JSON.stringify(bodyOf(item))).length + ENVELOPE_BYTES;
    if (current.length && (current.length === MAX_BATCH_MESSAGES || bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * Sends every message, in as few `sendBatch` calls as the queue's limits allow (see
 * `batchesOf`). The senders below build their messages and call it; a caller that needs
 * to know which batch failed (the directory's, which marks its people) calls it per batch.
 */
export async function sendAll<T>(queue: Queue<T>, bodies: T[], opts: { delaySeconds?: number } = {}): Promise<void> {
  for (const batch of batchesOf(bodies)) {
    await queue.sendBatch(batch.map((body) => ({ body, contentType: "json" as const, ...(opts.delaySeconds ? { delaySeconds: opts.delaySeconds } : {}) })));
  }
}

/**
 * Push jobs for one integration's people, on `JOBS` without the `now` mark: a REST push,
 * the sweep's re-sends and a push's own re-sends, which the router never moves to the
 * batches. A change's jobs are sent by the directory (`directory/ingest.ts`), on the
 * queue its tenant's pace calls for, with `pushJob`.
 */
export async function sendPushes(queues: JobQueues, integration: { tenantId: string; id: string }, people: { id: string; version: number }[], reason: JobReason): Promise<void> {
  await sendAll(queues.JOBS, people.map((p) => pushJob(integration, p, reason, "soon")));
}

/** One push job; `now` marks a job sent at once (a change that arrived alone), which the router may still move to the batches. */
export function pushJob(integration: { tenantId: string; id: string }, person: { id: string; version: number }, reason: JobReason, lane: "now" | "batched" | "soon"): PushJob {
  return { kind: "push", tenantId: integration.tenantId, integrationId: integration.id, userId: person.id, version: person.version, reason, ...(lane === "now" ? { lane } : {}) };
}

/** Push jobs sent at once whose tenant has begun a burst since: moved, unmarked, to the batches. */
export async function moveToBatches(queues: JobQueues, jobs: PushJob[]): Promise<void> {
  await sendAll(queues.PUSH_BATCHES, jobs.map(({ lane: _, ...job }) => job));
}

/** The message of a run's current page (after `delayMs`, at most the queue's 12 hours). */
export async function sendRunPage(queues: JobQueues, run: { id: string; tenantId: string; integrationId: string | null; page: number }, delayMs = 0): Promise<void> {
  const job: RunPageJob = { kind: "run", tenantId: run.tenantId, integrationId: run.integrationId, runId: run.id, page: run.page };
  await sendAll(queues.JOBS, [job], { delaySeconds: Math.min(43_200, Math.ceil(delayMs / 1000)) });
}

/** The next attempt of each stored event (its `attempt` numbers it), after `delaySeconds`. */
export async function sendEventAttempts(queues: JobQueues, events: { id: string; tenantId: string; attempt: number }[], delaySeconds = 0): Promise<void> {
  const jobs = events.map((e): EventJob => ({ kind: "event", tenantId: e.tenantId, eventId: e.id, attempt: e.attempt }));
  await sendAll(queues.JOBS, jobs, { delaySeconds });
}

/** The message of one step of planning a picked-up file. */
export async function sendPlanStep(queues: JobQueues, imp: { id: string; tenantId: string }, step: number): Promise<void> {
  const job: ImportPlanJob = { kind: "plan", tenantId: imp.tenantId, importId: imp.id, step };
  await sendAll(queues.JOBS, [job]);
}
