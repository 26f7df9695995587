import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import type { Integration } from "../integrations/store";
import { approveHeldRun, claimStalledRuns, countsOf, failRun, failRunStatement, insertRun, type RunKind } from "../db/runs.repo";
import { insertEventsStatements } from "../db/events.repo";
import { sumCounts, type RunCounts } from "../db/vocabulary";
import { runEventRows } from "../events/emit";
import type { RunRow } from "../db/schema";
import type { RunTrigger } from "../db/vocabulary";
import { cancelledRemovalsStatements } from "../db/sync.repo";
import type { Env } from "../env";
import { sendRunPage } from "../queue/send";
import { holdForApproval, runHold } from "../sync/guard";
import { canPush, sourceOf } from "../sync/target";
import { updateIntegration } from "../db/integrations.repo";
import { nextPulls, pullStart } from "./pull-state";

/**
 * The `run.completed` event of a run whose last page this is, stored in that page's batch;
 * `pageCounts` are the last page's, added to the run's so far.
 */
export function runCompletedStatements(db: Db, integration: Integration, run: RunRow, pageCounts: RunCounts): BatchItem<"sqlite">[] {
  return insertEventsStatements(db, runEventRows(integration, "run.completed", run, sumCounts(countsOf(run), pageCounts), Date.now()));
}

/** A running run that has not moved for this long lost its page's message with a restart (or has backed off as long). */
const STALLED_RUN_MS = 5 * 60_000;

/**
 * Sends again the current page of each run that has not moved for STALLED_RUN_MS; answers
 * how many. If the page's message was only slow, the page runs twice: the second delivery
 * finds the run moved on (a page is recorded only at the page it was on) and does nothing.
 */
export async function resendStalledRuns(db: Db, env: Env, now = Date.now()): Promise<number> {
  const stalled = await claimStalledRuns(db, now - STALLED_RUN_MS, now);
  for (const run of stalled) await sendRunPage(env, run);
  return stalled.length;
}

/**
 * Starts a run: held by the mass-change guard, or running with its first page queued.
 * At most one run of a kind is open per integration (a unique index): the insert is the
 * check, so concurrent starts make one run and the others answer null. A run whose
 * first page cannot be queued is failed at once rather than left open.
 */
export async function startRun(db: Db, env: Env, integration: Integration, kind: RunKind, trigger: RunTrigger, userIds: string[] | null = null, cursor: string | null = null): Promise<RunRow | null> {
  const held = kind === "pull" ? null : await runHold(db, integration, userIds);
  const run = await insertRun(db, {
    tenantId: integration.tenantId,
    integrationId: integration.id,
    kind,
    status: held ? "held" : "running",
    trigger,
    userIds: userIds ? JSON.stringify([...new Set(userIds)].sort()) : null,
    detail: held,
    cursor,
  });
  if (!run) return null;
  if (held) await holdForApproval(db, env, integration, run, held, true);
  if (!held) {
    try {
      await sendRunPage(env, run);
    } catch (err) {
      await failRun(db, run.id, "The run could not be queued.");
      throw err;
    }
  }
  return run;
}

/** An admin's approval of a held run: it goes on past the guard. Answers false when the run was not held. */
export async function approveRun(db: Db, env: Env, run: RunRow): Promise<boolean> {
  const updated = await approveHeldRun(db, run.id);
  if (!updated) return false;
  await sendRunPage(env, updated);
  return true;
}

/**
 * What follows an integration becoming active (connected, reconnected, activated): a
 * resync of everyone at once, as a run the admin can watch, rather than waiting for the
 * schedule. Nothing when the provider does not push yet or a resync is already open.
 */
export async function startInitialResync(db: Db, env: Env, integration: Integration, trigger: RunTrigger): Promise<RunRow | null> {
  if (integration.status !== "active") return null;
  if (sourceOf(integration)) {
    // The first pull is full: the schedule's next full one is a period away, its incremental ones start from it.
    await updateIntegration(db, integration.tenantId, integration.id, nextPulls(integration.config.schedule, Date.now()));
    return startPull(db, env, integration, true, trigger);
  }
  if (!canPush(integration)) return null;
  return startRun(db, env, integration, "resync", trigger);
}

/** Starts a pull of a source: full (everyone, then the leavers), or what changed since its cursor. */
export function startPull(db: Db, env: Env, integration: Integration, full: boolean, trigger: RunTrigger): Promise<RunRow | null> {
  return startRun(db, env, integration, "pull", trigger, null, pullStart(full, integration.pullCursor));
}

/**
 * An admin's cancel: the run ends as `cancelled`. A removals run's people keep their
 * records (see cancelledRemovalsStatements), in the same batch.
 */
export async function cancelRun(db: Db, run: RunRow): Promise<void> {
  const settle: BatchItem<"sqlite">[] = run.removals && run.integrationId ? [...cancelledRemovalsStatements(db, { ...run, integrationId: run.integrationId })] : [];
  await db.batch([failRunStatement(db, run.id, "Cancelled by an admin.", "cancelled"), ...settle]);
}
