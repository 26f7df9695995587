import { ProviderError } from "../connectors";
import type { Db } from "../db/client";
import { unseenCount } from "../db/pull.repo";
import { countsOf, heldRemovalsRun, holdRemovals, holdRun, runUserIds } from "../db/runs.repo";
import type { EventRow, RunRow } from "../db/schema";
import { linkedCount, linksByUsers, removalCounts, removalsSince, usersByIds } from "../db/sync.repo";
import { emitEvents, runEventRows, type EventTarget } from "../events/emit";
import type { Integration } from "../integrations/store";
import type { JobQueues } from "../queue/send";
import type { Removal } from "./decide";

/**
 * The mass-change guard, in one place (DESIGN.md "Mass-change guard"). Every path that
 * removes or disables people asks it: a run's start and each of its pages
 * (`runs/start.ts`, `runs/page.ts`), a full pull's leavers (`sync/pull.ts`), the removals
 * of webhooks and imports outside runs (`sync/removals.ts`) and an import's plan
 * (`directory/import-plan.ts`). The decision is pure arithmetic; holding a run, and
 * telling the `after` handler with `run.held`, is `holdForApproval`.
 */

/** Removals by webhook or import an integration may always make in an hour, whatever its size. */
export const FREE_REMOVALS_PER_HOUR = 5;
export const GUARD_HOUR_MS = 3_600_000;

/** How many people a change would take away, of how many, against which limit (percent). */
export interface Leaving {
  leaving: number;
  of: number;
  limitPercent: number;
}

/** The share `leaving` is of `of`, in percent to one decimal (0 of nobody is 0). */
export function percentOf(leaving: number, of: number): number {
  return of === 0 ? 0 : Math.round((leaving / of) * 1000) / 10;
}

/** Whether taking `leaving` of `of` away stays within the limit (nobody leaving, or nobody to leave, always does). */
export function withinLimit({ leaving, of, limitPercent }: Leaving): boolean {
  return !leaving || of === 0 || (leaving / of) * 100 <= limitPercent;
}

/**
 * Removals outside runs (webhooks, imports): within a rolling hour an integration may
 * remove up to `limitPercent` of its linked people, and always `FREE_REMOVALS_PER_HOUR`,
 * counting those already removed in the hour. Answers how many of `wanting` may go now.
 */
export function hourlyAllowance(opts: { linked: number; removedThisHour: number; limitPercent: number }): { allowance: number; left: number } {
  const allowance = Math.max(FREE_REMOVALS_PER_HOUR, Math.floor((opts.linked * opts.limitPercent) / 100));
  return { allowance, left: Math.max(0, allowance - opts.removedThisHour) };
}

/** The words of a hold: what the change would do, to how many of whom, against which limit. */
export function pastLimitDetail(verb: string, { leaving, of, limitPercent }: Leaving, whom: string, advice: string): string {
  return `${verb} ${leaving} of ${of} ${whom} (${percentOf(leaving, of)}%), more than maxDisablePercent (${limitPercent}%). ${advice}`;
}

/** Approving or cancelling a held run, as every run-hold says. */
export const APPROVE_OR_CANCEL = "Approve the run to go on, or cancel it.";

/**
 * The one way a run is held for an admin: the run waits at its current page with the
 * reason, and the `after` handler hears `run.held` once (its id is the run's and page's).
 * A run inserted already held (`insertRun` with status `held`) only needs the telling:
 * pass `alreadyHeld`. Answers false when the run was no longer running at that page.
 */
export async function holdForApproval(db: Db, queues: JobQueues, integration: EventTarget, run: RunRow, detail: string, alreadyHeld = false): Promise<boolean> {
  if (!alreadyHeld && !(await holdRun(db, run, detail))) return false;
  await emitEvents(db, queues, runHeldEvents(integration, run));
  return true;
}

/** The `run.held` event of a run held at its current page (none when the handler does not subscribe). */
export function runHeldEvents(integration: EventTarget, run: RunRow): EventRow[] {
  return runEventRows(integration, "run.held", run, countsOf(run), Date.now());
}

/**
 * A push run (resync, reconciliation): why it must wait for an admin, or null. A run
 * would remove the record of every linked person whose directory record is disabled or
 * deleted (when `onDelete` acts on them); more than `maxDisablePercent` of the linked
 * people is held. People whose removal already waits for the removals run are left to it.
 */
export async function runHold(db: Db, integration: Integration, userIds: string[] | null): Promise<string | null> {
  const { onDelete, maxDisablePercent } = integration.config;
  if (onDelete === "ignore") return null;
  const counts = await removalCounts(db, integration.id, onDelete);
  let leaving = counts.leaving;
  const isLeaving = (u: { status: string }) => (onDelete === "delete" ? u.status === "deleted" : u.status !== "active");
  const heldRun = await heldRemovalsRun(db, integration.id);
  const held = new Set(heldRun ? (runUserIds(heldRun) ?? []) : []);
  if (userIds) {
    // A resync of chosen people removes only theirs.
    const chosen = new Set((await linksByUsers(db, integration.id, userIds)).filter((l) => l.remoteId && !held.has(l.userId)).map((l) => l.userId));
    leaving = (await usersByIds(db, integration.tenantId, [...chosen])).filter(isLeaving).length;
  } else if (held.size) {
    const heldLinked = new Set((await linksByUsers(db, integration.id, [...held])).filter((l) => l.remoteId).map((l) => l.userId));
    leaving -= (await usersByIds(db, integration.tenantId, [...heldLinked])).filter(isLeaving).length;
  }
  const count = { leaving, of: counts.linked, limitPercent: maxDisablePercent };
  if (withinLimit(count)) return null;
  return pastLimitDetail(`Would ${onDelete === "delete" ? "delete" : "deactivate"} the records of`, count, "linked people", APPROVE_OR_CANCEL);
}

/** A full pull's leavers (the linked people it did not see): why disabling them needs an admin, or null. */
export async function pullLeaversHold(db: Db, integration: Integration, startedAt: number): Promise<string | null> {
  const { linked, unseen } = await unseenCount(db, integration, startedAt);
  const count = { leaving: unseen, of: linked, limitPercent: integration.config.maxDisablePercent };
  if (withinLimit(count)) return null;
  return pastLimitDetail("Would disable", count, `people pulled from ${integration.name}`, `They were not in the full pull. ${APPROVE_OR_CANCEL}`);
}

/**
 * Removals outside approved runs (`onDelete: delete`). People already held wait for
 * their run. `hourly` (webhooks, imports): up to the hourly allowance go, the rest are
 * held behind the integration's removals run, for an admin to approve or cancel. `held`
 * (a run's page, which the run's guard checked): only the people already held wait.
 */
export async function holdRemovalsPastGuard(db: Db, integration: Integration, toDelete: Removal[], mode: "hourly" | "held"): Promise<{ go: Removal[]; held: { run: RunRow; items: Removal[]; opened: boolean } | null }> {
  const heldRun = await heldRemovalsRun(db, integration.id);
  const already = new Set(heldRun ? (runUserIds(heldRun) ?? []) : []);
  const waiting = toDelete.filter((d) => already.has(d.userId));
  let go = toDelete.filter((d) => !already.has(d.userId));
  let newlyHeld: Removal[] = [];
  let detail = heldRun?.detail ?? "";
  if (mode === "hourly" && go.length) {
    const [linked, removedThisHour] = await Promise.all([linkedCount(db, integration.id), removalsSince(db, integration.id, Date.now() - GUARD_HOUR_MS)]);
    const { maxDisablePercent } = integration.config;
    const { allowance, left } = hourlyAllowance({ linked, removedThisHour, limitPercent: maxDisablePercent });
    if (go.length > left) {
      newlyHeld = go.slice(left);
      go = go.slice(0, left);
      detail = `Holds removals by webhook or import past the mass-change guard: more than ${allowance} records within an hour (maxDisablePercent ${maxDisablePercent}% of ${linked} linked people, at least ${FREE_REMOVALS_PER_HOUR}). Approve the run to delete these people's records, or cancel it to leave them as they are.`;
    }
  }
  if (!waiting.length && !newlyHeld.length) return { go, held: null };
  const run = newlyHeld.length ? await holdRemovals(db, integration, newlyHeld.map((d) => d.userId), detail) : heldRun;
  if (!run) throw new ProviderError("transient", "An approved removals run is still deleting records; these removals wait for it to end.", 30_000);
  return { go, held: { run, items: [...waiting, ...newlyHeld], opened: heldRun === null } };
}
