import type { Db } from "../db/client";
import { claimDueTime, dueIntegrationRecords } from "../db/integrations.repo";
import { fromRecord, type Integration } from "../integrations/store";
import type { RunKind } from "../db/runs.repo";
import type { Env } from "../env";
import { startPull, startRun } from "../runs/start";
import { nextPulls } from "../runs/pull-state";
import { canPush, sourceOf } from "../sync/target";
import { openRun } from "../db/runs.repo";

/** Integrations looked at per tick; the rest are due at the next one. */
const PER_TICK = 200;
const RECONCILE_EVERY_MS = { hourly: 3_600_000, daily: 86_400_000 } as const;

/**
 * The every-minute tick: starts the resyncs and reconciliations that are due. Each due
 * time is claimed with a compare-and-set, so two ticks that overlap start each run once;
 * a kind that still has a run open (running, or held for approval) is not started again.
 * The tick only writes rows and queues first pages: the provider work happens in the
 * queue consumer, a page at a time.
 */
export async function dispatchDue(db: Db, env: Env, now: number): Promise<{ resync: number; reconcile: number; pull: number }> {
  const due = await dueIntegrationRecords(db, now, PER_TICK);
  const started = { resync: 0, reconcile: 0, pull: 0 };
  for (const row of due) {
    const integration = fromRecord(row);
    if (!integration.receivesPushes) {
      if (await dispatchPull(db, env, integration, now)) started.pull++;
      continue;
    }
    const { resyncMinutes, reconcile } = integration.config.schedule;
    if ((row.resyncDueAt ?? 0) <= now && (await claimDueTime(db, row.id, "resyncDueAt", row.resyncDueAt, now + resyncMinutes * 60_000))) {
      if (await start(db, env, integration, "resync")) started.resync++;
    }
    if ((row.reconcileDueAt ?? 0) <= now) {
      const next = reconcile === "off" ? now + RECONCILE_EVERY_MS.daily : now + RECONCILE_EVERY_MS[reconcile];
      if ((await claimDueTime(db, row.id, "reconcileDueAt", row.reconcileDueAt, next)) && reconcile !== "off") {
        if (await start(db, env, integration, "reconcile")) started.reconcile++;
      }
    }
  }
  return started;
}

async function start(db: Db, env: Env, integration: Integration, kind: RunKind): Promise<boolean> {
  if (!canPush(integration)) return false;
  return (await startRun(db, env, integration, kind, "schedule")) !== null;
}

/**
 * A source's due pull: the full one when due (it reads everyone, so the incremental one
 * due with it is put off), else the incremental one. A pull still open keeps the due
 * time for the next tick.
 */
async function dispatchPull(db: Db, env: Env, integration: Integration, now: number): Promise<boolean> {
  const next = nextPulls(integration.config.schedule, now);
  const fullDue = (integration.fullPullDueAt ?? 0) <= now;
  if (!sourceOf(integration)) {
    // Neither pushed to nor pulled from (not connected, or a provider whose part is not
    // written): looked at again in a day rather than at every tick.
    await claimDueTime(db, integration.id, "fullPullDueAt", integration.fullPullDueAt, now + 86_400_000);
    await claimDueTime(db, integration.id, "pullDueAt", integration.pullDueAt, now + 86_400_000);
    return false;
  }
  if (await openRun(db, integration.id, "pull")) return false;
  if (fullDue && integration.config.schedule.fullPull === "off") {
    // Off: its due time only moves on, so that the source is not due at every tick.
    await claimDueTime(db, integration.id, "fullPullDueAt", integration.fullPullDueAt, next.fullPullDueAt);
  } else if (fullDue) {
    if (!(await claimDueTime(db, integration.id, "fullPullDueAt", integration.fullPullDueAt, next.fullPullDueAt))) return false;
    await claimDueTime(db, integration.id, "pullDueAt", integration.pullDueAt, next.pullDueAt);
    return (await startPull(db, env, integration, true, "schedule")) !== null;
  }
  if ((integration.pullDueAt ?? 0) > now) return false;
  if (!(await claimDueTime(db, integration.id, "pullDueAt", integration.pullDueAt, next.pullDueAt))) return false;
  return (await startPull(db, env, integration, false, "schedule")) !== null;
}
