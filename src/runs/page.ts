import { clock } from "../lib/clock";
import type { Db } from "../db/client";
import type { RunRow } from "../db/schema";
import type { Integration } from "../integrations/store";
import { claimRunPage, failRun, getRun, runUserIds } from "../db/runs.repo";
import { queueEvents, runEventId, subscribes } from "../events/emit";
import type { Env } from "../env";
import type { RunPageJob } from "../queue/messages";
import type { GroupOutcome } from "../sync/push";
import type { PageResult } from "./page-result";
import { pullPage } from "./pull";
import { reconcilePage } from "./reconcile";
import { resyncPage } from "./resync";
import { holdForApproval, runHold } from "../sync/guard";
import { sendRunPage } from "../queue/send";
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
 * How long one delivery holds a page it claimed: longer than a page takes, shorter than
 * the cron waits before it takes a run for stalled (runs/start.ts), so that a page whose
 * delivery died with its isolate is sent again.
 */
export const PAGE_CLAIM_MS = 4 * 60_000;

/**
 * One page of a run, for an integration the jobs router found runnable. Pages run one
 * after another, each queued by the one before. One delivery of the page's message
 * claims it (`claimRunPage`) and does it; another delivery of the same message, at the
 * same time or after the page moved on, does nothing, so no page is pushed twice and no
 * next page is sent twice. A next page whose message was lost is sent again by the cron
 * (`resendStalledRuns`). A provider failure answers `retry` (the router backs off, and
 * pauses the integration when the provider asked); the claim is given back for the retry.
 */
export async function handleRunPage(db: Db, env: Env, job: RunPageJob, integration: Integration): Promise<PageOutcome> {
  const done = { kind: "done" } as const;
  const run = await getRun(db, job.tenantId, job.runId);
  if (!run || run.status !== "running" || job.page !== run.page) return done;
  const now = clock.now();
  if (!(await claimRunPage(db, run, now, now + PAGE_CLAIM_MS))) return done;
  let outcome: PageOutcome | undefined;
  try {
    outcome = await claimedPage(db, env, run, integration);
    return outcome;
  } finally {
    // Given back for the message's retry (at once, or when the provider's pause ends);
    // a page that moved on, or waits `later`, has already moved its claim.
    if (!outcome || outcome.kind === "retry") await touchRun(db, run.id, clock.now() + (outcome?.kind === "retry" && outcome.pause ? (outcome.delayMs ?? 0) : 0), run.page);
  }
}

async function claimedPage(db: Db, env: Env, run: RunRow, integration: Integration): Promise<PageOutcome> {
  const done = { kind: "done" } as const;
  // The mass-change guard on every page: removals that arrived after the run started
  // hold it here, before it touches anything more, until an admin approves it.
  if (!run.approved) {
    const problem = await runHold(db, integration, runUserIds(run));
    if (problem) {
      await holdForApproval(db, env, integration, run, problem);
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
    await touchRun(db, run.id, clock.now() + outcome.delayMs, run.page);
    await sendRunPage(env, run, outcome.delayMs);
    return done;
  }
  if (outcome.kind === "stopped") {
    await failRun(db, run.id, `${outcome.reason} Reconnect the integration, then resync.`);
    return done;
  }
  if (outcome.held) return done;
  if (outcome.more) await sendRunPage(env, { ...run, page: run.page + 1 });
  // The last page stored the run's `run.completed` with its outcomes: queue it now (the sweep would, later).
  else if (subscribes(integration, "run.completed")) await queueEvents(env, [{ id: runEventId(run, "run.completed"), tenantId: run.tenantId }]);
  return done;
}
