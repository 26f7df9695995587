import type { Db } from "../db/client";
import type { RunRow } from "../db/schema";
import type { Integration } from "../integrations/store";
import { countsOf, failRun, getRun, holdRun, runUserIds } from "../db/runs.repo";
import { emitEvents, queueEvents, runEventId, runEventRows, subscribes } from "../events/emit";
import type { Env } from "../env";
import type { RunPageJob } from "../jobs/messages";
import type { GroupOutcome } from "../sync/push";
import type { PageResult } from "./page-result";
import { pullPage } from "./pull";
import { reconcilePage } from "./reconcile";
import { resyncPage } from "./resync";
import { guardProblem, sendPage } from "./start";
import { touchRun } from "../db/runs.repo";

type PageWork = (db: Db, env: Env, integration: Integration, run: RunRow) => Promise<PageResult>;

/** The work of one page, by run kind: a new kind of run is one line here. */
const PAGE_WORK: Partial<Record<RunRow["kind"], PageWork>> = {
  resync: resyncPage,
  reconcile: reconcilePage,
  pull: pullPage,
};

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
    const problem = await guardProblem(db, integration, runUserIds(run));
    if (problem) {
      if (await holdRun(db, run, problem)) await emitEvents(db, env.JOBS, runEventRows(integration, "run.held", run, countsOf(run), Date.now()));
      return done;
    }
  }
  const work = PAGE_WORK[run.kind];
  if (!work) {
    await failRun(db, run.id, `Runs of kind ${run.kind} are not done by this version of the hub.`);
    return done;
  }
  const outcome = await work(db, env, integration, run);
  if (outcome.kind === "retry") return outcome;
  if (outcome.kind === "later") {
    // The same page again once the wait is over; the run counts as moving meanwhile.
    await touchRun(db, run.id, Date.now() + outcome.delayMs);
    await sendPage(env, run, outcome.delayMs);
    return done;
  }
  if (outcome.kind === "stopped") {
    await failRun(db, run.id, `${outcome.reason} Reconnect the integration, then resync.`);
    return done;
  }
  if (outcome.held) return done;
  if (outcome.more) await sendPage(env, { ...run, page: run.page + 1 });
  // The last page stored the run's `run.completed` with its outcomes: queue it now (the sweep would, later).
  else if (subscribes(integration, "run.completed")) await queueEvents(env.JOBS, [{ id: runEventId(run, "run.completed"), tenantId: run.tenantId }]);
  return done;
}
