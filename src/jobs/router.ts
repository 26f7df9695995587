import { errorText, logger } from "../lib/log";
import { createDb, type Db } from "../db/client";
import { updateIntegration } from "../db/integrations.repo";
import { getIntegration, type Integration } from "../integrations/store";
import { failRun, touchRun } from "../db/runs.repo";
import { importStatusStatement } from "../db/imports.repo";
import { deadLetterStatement, linksByUsers, parkStatements, usersByIds } from "../db/sync.repo";
import { emitEvents, eventRows, subscribes } from "../events/emit";
import type { Env } from "../env";
import { deliverEvent } from "../events/deliver";
import { handleImportPage } from "../runs/import";
import { failPlan, handlePlanStep } from "../runs/pickup";
import { handleRunPage } from "../runs/page";
import { canPush, pushGroup } from "../sync/push";
import { gateOf } from "./gate";
import { tenantBursts } from "../lib/bursts";
import type { JobMessage, PushJob, RunPageJob } from "../queue/messages";
import { backoffSeconds, retryDelaySeconds } from "./retry";
import { moveToBatches } from "../queue/send";

/**
 * `queue()`: the one router of every queue message. The dead-letter queue (named by the
 * `DEAD_LETTER_QUEUE` setting) marks what used up its retries. Otherwise push jobs are
 * grouped by integration and each group is pushed in one go (re-reading the directory
 * and the links, so duplicates and reordering are harmless), and each run page, plan
 * step and event delivery runs on its own. Whether an integration may run is decided once, by its gate.
 */
export async function handleQueue(batch: MessageBatch<JobMessage>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  if (batch.queue === env.DEAD_LETTER_QUEUE) return deadLetters(db, env, batch);
  const groups = new Map<string, Message<PushJob>[]>();
  for (const m of batch.messages) {
    if (m.body.kind === "run") {
      await guarded([m], `run page ${m.body.runId}`, () => runPage(db, env, m as Message<RunPageJob>));
      continue;
    }
    if (m.body.kind === "plan") {
      const job = m.body;
      await guarded([m], `plan step ${job.step} of ${job.importId}`, async () => {
        await handlePlanStep(db, env, job);
        m.ack();
      });
      continue;
    }
    if (m.body.kind === "event") {
      const job = m.body;
      await guarded([m], `event ${job.eventId}`, async () => {
        await deliverEvent(db, env, job);
        m.ack();
      });
      continue;
    }
    const key = `${m.body.tenantId}/${m.body.integrationId}`;
    groups.set(key, [...(groups.get(key) ?? []), m as Message<PushJob>]);
  }
  for (const messages of groups.values()) await guarded(messages, `job group of ${messages[0]!.body.integrationId}`, () => pushJobs(db, env, messages));
}

/** An unexpected failure sends the messages back to the queue with back-off. */
async function guarded(messages: Message<JobMessage>[], what: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    logger().error(`${what} failed`, { error: errorText(err) });
    for (const m of messages) m.retry({ delaySeconds: backoffSeconds(m.attempts) });
  }
}

/** After a provider failure: the whole integration waits when the provider asked (or refused whole calls), and the messages back off. */
async function retryAfterFailure(db: Db, integration: Integration, messages: Message<JobMessage>[], outcome: { delayMs: number | undefined; pause: boolean; reason: string }) {
  if (outcome.pause && outcome.delayMs) {
    await updateIntegration(db, integration.tenantId, integration.id, { pausedUntil: Date.now() + outcome.delayMs, lastError: outcome.reason });
  }
  for (const m of messages) m.retry({ delaySeconds: retryDelaySeconds(m.attempts, outcome.delayMs) });
}

async function pushJobs(db: Db, env: Env, messages: Message<PushJob>[]): Promise<void> {
  const { tenantId, integrationId } = messages[0]!.body;
  const jobs = messages.map((m) => m.body);
  if (jobs.every((j) => j.lane === "now") && (await burstBegun(tenantId))) {
    // Sent at once, but its tenant's changes now come in a burst: join the batches that
    // are filling rather than spend a push of its own.
    await moveToBatches(env, jobs);
    return messages.forEach((m) => m.ack());
  }
  const gate = gateOf(await getIntegration(db, tenantId, integrationId));
  if (gate.kind === "wait") return messages.forEach((m) => m.retry({ delaySeconds: gate.seconds }));
  if (gate.kind === "park") {
    const [first, ...rest] = parkStatements(db, jobs);
    if (first) await db.batch([first, ...rest]);
  }
  // A source that only pulls takes no pushes (jobs sent before it was one are dropped).
  if (gate.kind !== "run" || !canPush(gate.integration)) return messages.forEach((m) => m.ack());
  const outcome = await pushGroup(db, env, gate.integration, [...new Set(jobs.map((j) => j.userId))]);
  if (outcome.kind === "retry") return retryAfterFailure(db, gate.integration, messages, outcome);
  messages.forEach((m) => m.ack());
}

/**
 * How long a job sent at once waits before it is pushed, so that changes which arrived
 * together with its own (the first of a sender's burst, the ones it sent again after a
 * 429) are counted first: then the first change of a burst joins the batches too.
 */
const SETTLE_MS = 20;

async function burstBegun(tenantId: string): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return tenantBursts.busy(tenantId);
}

async function runPage(db: Db, env: Env, message: Message<RunPageJob>): Promise<void> {
  const job = message.body;
  if (job.integrationId === null) {
    // An import's page: it changes the directory, whichever integration may run now.
    await handleImportPage(db, env, job);
    return message.ack();
  }
  const gate = gateOf(await getIntegration(db, job.tenantId, job.integrationId));
  if (gate.kind === "wait") {
    // A known pause (the provider's): the run is waiting, not stalled, so the cron does not send its page again.
    await touchRun(db, job.runId, Date.now() + gate.seconds * 1000, job.page);
    return message.retry({ delaySeconds: gate.seconds });
  }
  if (gate.kind !== "run") {
    await failRun(db, job.runId, `${gate.reason} The run stopped.`);
    return message.ack();
  }
  const outcome = await handleRunPage(db, env, job, gate.integration);
  if (outcome.kind === "retry") return retryAfterFailure(db, gate.integration, [message], outcome);
  message.ack();
}

/** Messages that used up their retries: a run's page fails its run; a push job leaves its person `failed` with the reason. */
async function deadLetters(db: Db, env: Env, batch: MessageBatch<JobMessage>): Promise<void> {
  for (const m of batch.messages) {
    if (m.body.kind === "run") {
      await failRun(db, m.body.runId, "A page of the run failed after every retry; see the integration's logs.");
      if (m.body.integrationId === null) await importStatusStatement(db, m.body.runId, "failed");
    }
    if (m.body.kind === "plan") await failPlan(db, env, m.body, "A step of planning the file failed after every retry; see the hub's logs.");
  }
  const failures = batch.messages
    .map((m) => m.body)
    .filter((job): job is PushJob => job.kind === "push")
    .map((job) => deadLetterStatement(db, job));
  const [first, ...rest] = failures;
  if (first) {
    try {
      await db.batch([first, ...rest]);
    } catch {
      // One of them failed (its integration was deleted meanwhile, so the insert finds no parent): write the others alone.
      await Promise.allSettled(failures.map(async (statement) => await statement));
    }
  }
  await failedEvents(db, env, batch.messages.map((m) => m.body).filter((job): job is PushJob => job.kind === "push"));
  batch.ackAll();
}

/**
 * `user.failed` for the people whose retries ran out, to the integrations whose after
 * handler subscribes: one event per person and version, however often the dead letter
 * comes.
 */
async function failedEvents(db: Db, env: Env, jobs: PushJob[]): Promise<void> {
  const byIntegration = new Map<string, PushJob[]>();
  for (const job of jobs) byIntegration.set(`${job.tenantId}/${job.integrationId}`, [...(byIntegration.get(`${job.tenantId}/${job.integrationId}`) ?? []), job]);
  for (const group of byIntegration.values()) {
    const { tenantId, integrationId } = group[0]!;
    const integration = await getIntegration(db, tenantId, integrationId);
    if (!integration || !subscribes(integration, "user.failed")) continue;
    const userIds = [...new Set(group.map((j) => j.userId))];
    const [users, failed] = await Promise.all([usersByIds(db, tenantId, userIds), linksByUsers(db, integrationId, userIds)]);
    const emailOf = new Map(users.map((u) => [u.id, u.email]));
    const now = Date.now();
    const events = failed
      .filter((l) => l.status === "failed")
      .flatMap((l) => {
        const version = Math.max(...group.filter((j) => j.userId === l.userId).map((j) => j.version));
        return eventRows(integration, "user.failed", [{ userId: l.userId, email: emailOf.get(l.userId) ?? null, error: l.lastError ?? "Gave up after every retry." }], now, () => `evt_failed_${integrationId}_${l.userId}_${version}`);
      });
    await emitEvents(db, env, events);
  }
}
