import type { Db } from "../db/client";
import { getIntegration, updateIntegration } from "../db/integrations.repo";
import { failRun, getRun, holdRun } from "../db/runs.repo";
import type { Env } from "../env";
import type { RunPageJob } from "../sync/jobs";
import { canPush } from "../sync/push";
import { retryDelaySeconds } from "../sync/retry";
import { reconcilePage } from "./reconcile";
import { resyncPage } from "./resync";
import { guardProblem, sendPage } from "./start";

/**
 * One page of a run. Pages run one after another, each queued by the one before. A
 * message for a page already done is a redelivery: if it is the page just before the
 * run's next one, the next page's message may have been lost, so it is sent again
 * (a duplicate of it is recognised in turn). A provider failure sends the page back to
 * the queue with back-off; a 429 pauses the whole integration.
 */
export async function handleRunPage(db: Db, env: Env, message: Message<RunPageJob>): Promise<void> {
  const job = message.body;
  const run = await getRun(db, job.tenantId, job.runId);
  if (!run || run.status !== "running" || job.page > run.page) return message.ack();
  if (job.page < run.page) {
    if (job.page === run.page - 1) await sendPage(env, run);
    return message.ack();
  }
  const integration = await getIntegration(db, job.tenantId, job.integrationId);
  if (!integration || integration.status !== "active" || !canPush(integration)) {
    await failRun(db, run.id, integration ? `The integration is ${integration.status}; the run stopped.` : "The integration was deleted.");
    return message.ack();
  }
  const now = Date.now();
  if (integration.pausedUntil && integration.pausedUntil > now) {
    message.retry({ delaySeconds: Math.ceil((integration.pausedUntil - now) / 1000) });
    return;
  }
  // The mass-change guard on every page: removals that arrived after the run started
  // hold it here, before it touches anything more, until an admin approves it.
  if (!run.approved) {
    const problem = await guardProblem(db, integration, run.userIds ? (JSON.parse(run.userIds) as string[]) : null);
    if (problem) {
      await holdRun(db, run, problem);
      return message.ack();
    }
  }
  const outcome = run.kind === "reconcile" ? await reconcilePage(db, env, integration, run) : await resyncPage(db, env, integration, run);
  if (outcome.kind === "retry") {
    if (outcome.pause && outcome.delayMs) await updateIntegration(db, integration.tenantId, integration.id, { pausedUntil: Date.now() + outcome.delayMs, lastError: outcome.reason });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts, outcome.delayMs) });
    return;
  }
  if (outcome.kind === "stopped") {
    await failRun(db, run.id, `${outcome.reason} Reconnect the integration, then resync.`);
    return message.ack();
  }
  if (outcome.more) await sendPage(env, { ...run, page: run.page + 1 });
  message.ack();
}
