import { sql } from "drizzle-orm";
import { createDb, type Db } from "../db/client";
import { getIntegration, updateIntegration } from "../db/integrations.repo";
import { links } from "../db/schema";
import type { Env } from "../env";
import { handleRunPage } from "../runs/page";
import { failRun } from "../db/runs.repo";
import type { JobMessage, PushJob, RunPageJob } from "./jobs";
import { canPush, pushGroup } from "./push";
import { backoffSeconds, retryDelaySeconds } from "./retry";

/**
 * `queue()`: jobs are grouped by integration and each group is pushed in one go
 * (re-reading the directory and the links, so duplicates and reordering are harmless).
 * Deactivated or deleted integrations drop their jobs; ones waiting to be reconnected
 * park them as `pending` links; a provider's 429 pauses the whole integration. The
 * dead-letter queue's batches mark their links `failed` with the last reason.
 */
export async function handleQueue(batch: MessageBatch<JobMessage>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  if (batch.queue.endsWith("-dlq")) return deadLetters(db, batch);
  const groups = new Map<string, Message<PushJob>[]>();
  for (const m of batch.messages) {
    if (m.body.kind === "run") {
      await runPage(db, env, m as Message<RunPageJob>);
      continue;
    }
    const key = `${m.body.tenantId}/${m.body.integrationId}`;
    groups.set(key, [...(groups.get(key) ?? []), m as Message<PushJob>]);
  }
  for (const messages of groups.values()) {
    try {
      await handleGroup(db, env, messages);
    } catch (err) {
      console.error(JSON.stringify({ level: "error", msg: "job group failed", integrationId: messages[0]!.body.integrationId, error: err instanceof Error ? err.message : String(err) }));
      for (const m of messages) m.retry({ delaySeconds: backoffSeconds(m.attempts) });
    }
  }
}

/** A run's page; an unexpected failure goes back to the queue like a push job's. */
async function runPage(db: Db, env: Env, message: Message<RunPageJob>): Promise<void> {
  try {
    await handleRunPage(db, env, message);
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "run page failed", runId: message.body.runId, error: err instanceof Error ? err.message : String(err) }));
    message.retry({ delaySeconds: backoffSeconds(message.attempts) });
  }
}

async function handleGroup(db: Db, env: Env, messages: Message<PushJob>[]): Promise<void> {
  const { tenantId, integrationId } = messages[0]!.body;
  const ackAll = () => messages.forEach((m) => m.ack());
  const integration = await getIntegration(db, tenantId, integrationId);
  if (!integration || integration.status === "deactivated") return ackAll();
  const jobs = messages.map((m) => m.body);
  if (integration.status === "pending") {
    // Waiting for a reconnect: park (the reconnect re-sends pending links); never connected: nothing to do.
    if (integration.pendingActions.includes("reconnect")) await markPending(db, jobs);
    return ackAll();
  }
  const now = Date.now();
  if (integration.pausedUntil && integration.pausedUntil > now) {
    const wait = Math.ceil((integration.pausedUntil - now) / 1000);
    for (const m of messages) m.retry({ delaySeconds: wait });
    return;
  }
  if (!canPush(integration)) {
    // This provider's connector does not push yet: the people wait as pending links.
    await markPending(db, jobs);
    return ackAll();
  }
  const outcome = await pushGroup(db, env, integration, [...new Set(jobs.map((j) => j.userId))]);
  if (outcome.kind !== "retry") return ackAll();
  if (outcome.pause && outcome.delayMs) {
    // Back-pressure, or the provider refused whole requests: the whole integration waits, and says why.
    await updateIntegration(db, tenantId, integrationId, { pausedUntil: Date.now() + outcome.delayMs, lastError: outcome.reason });
  }
  for (const m of messages) m.retry({ delaySeconds: retryDelaySeconds(m.attempts, outcome.delayMs) });
}

/** Records the people as `pending` links of their integrations (parked jobs). Idempotent. */
async function markPending(db: Db, jobs: PushJob[]): Promise<void> {
  const now = Date.now();
  const rows = [...new Map(jobs.map((j) => [`${j.integrationId}/${j.userId}`, j])).values()].map((j) => ({
    tenantId: j.tenantId,
    integrationId: j.integrationId,
    userId: j.userId,
    status: "pending" as const,
    updatedAt: now,
  }));
  const statements = [];
  for (let i = 0; i < rows.length; i += 20) {
    statements.push(
      db
        .insert(links)
        .values(rows.slice(i, i + 20))
        .onConflictDoUpdate({ target: [links.integrationId, links.userId], set: { status: sql`excluded.status`, updatedAt: sql`excluded.updated_at` } }),
    );
  }
  if (statements.length) await db.batch(statements as [(typeof statements)[0], ...typeof statements]);
}

/**
 * Jobs that used up their retries: each person's link becomes `failed` with the last
 * reason (created if the job never got as far as writing one), unless the link already
 * pushed this version or a newer one. A resync can replay them.
 */
async function deadLetters(db: Db, batch: MessageBatch<JobMessage>): Promise<void> {
  const now = Date.now();
  for (const m of batch.messages) {
    if (m.body.kind === "run") await failRun(db, m.body.runId, "A page of the run failed after every retry; see the integration's logs.");
  }
  const failures = batch.messages
    .map((m) => m.body)
    .filter((job): job is PushJob => job.kind === "push")
    .map((job) =>
      db
        .insert(links)
        .values({ tenantId: job.tenantId, integrationId: job.integrationId, userId: job.userId, status: "failed", failureKind: "retry", lastError: "Gave up after every retry: no answer", updatedAt: now })
        .onConflictDoUpdate({
          target: [links.integrationId, links.userId],
          set: { status: "failed", failureKind: "retry", lastError: sql`'Gave up after every retry: ' || coalesce(${links.lastError}, 'no answer')`, updatedAt: now },
          setWhere: sql`${links.status} = 'pending' or coalesce(${links.pushedVersion}, 0) < ${job.version}`,
        }),
    );
  // The integration may be gone (deleted meanwhile): its links went with it, and the insert finds no parent.
  const [first, ...rest] = failures;
  if (first) {
    try {
      await db.batch([first, ...rest]);
    } catch {
      // One of them failed (its integration was deleted meanwhile): write the others alone.
      await Promise.allSettled(failures.map(async (statement) => await statement));
    }
  }
  batch.ackAll();
}
