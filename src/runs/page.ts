import type { Db } from "../db/client";
import type { Integration } from "../integrations/store";
import { failRun, getRun, holdRun } from "../db/runs.repo";
import type { Env } from "../env";
import type { RunPageJob } from "../jobs/messages";
import type { GroupOutcome } from "../sync/push";
import { reconcilePage } from "./reconcile";
import { resyncPage } from "./resync";
import { guardProblem, sendPage } from "./start";

/** What became of a page message: done with (ack), or to be tried again as the outcome says. */
export type PageOutcome = { kind: "done" } | Extract<GroupOutcome, { kind: "retry" }>;

/**
 * One page of a run, for an integration the jobs router found runnable. Pages run one
 * after another, each queued by the one before. A message for a page already done is a
 * redelivery: if it is the page just before the run's next one, the next page's message
 * may have been lost, so it is sent again (a duplicate of it is recognised in turn). A
 * provider failure answers `retry` (the router backs off, and pauses the integration
 * when the provider asked).
 */
export async function handleRunPage(db: Db, env: Env, job: RunPageJob, integration: Integration): Promise<PageOutcome> {
  const done = { kind: "done" } as const;
  const run = await getRun(db, job.tenantId, job.runId);
  if (!run || run.status !== "running" || job.page > run.page) return done;
  if (job.page < run.page) {
    if (job.page === run.page - 1) await sendPage(env, run);
    return done;
  }
  // The mass-change guard on every page: removals that arrived after the run started
  // hold it here, before it touches anything more, until an admin approves it.
  if (!run.approved) {
    const problem = await guardProblem(db, integration, run.userIds ? (JSON.parse(run.userIds) as string[]) : null);
    if (problem) {
      await holdRun(db, run, problem);
      return done;
    }
  }
  const outcome = run.kind === "reconcile" ? await reconcilePage(db, env, integration, run) : await resyncPage(db, env, integration, run);
  if (outcome.kind === "retry") return outcome;
  if (outcome.kind === "stopped") {
    await failRun(db, run.id, `${outcome.reason} Reconnect the integration, then resync.`);
    return done;
  }
  if (outcome.more) await sendPage(env, { ...run, page: run.page + 1 });
  return done;
}
