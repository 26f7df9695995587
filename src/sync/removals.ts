import { ProviderError } from "../connectors";
import type { Db } from "../db/client";
import { countsOf, heldRemovalsRun, holdRemovals, runUserIds } from "../db/runs.repo";
import { insertEventsStatements } from "../db/events.repo";
import { runEventRows } from "../events/emit";
import type { RunRow } from "../db/schema";
import { linkedCount, removalsSince } from "../db/sync.repo";
import type { Integration } from "../integrations/store";
import type { Outcomes } from "./outcomes";
import type { Removal } from "./plan";

/** Removals by webhook or import an integration may always make in an hour, whatever its size. */
export const FREE_REMOVALS_PER_HOUR = 5;
const HOUR_MS = 3_600_000;

/**
 * How the mass-change guard treats removals (records deleted under `onDelete: delete`).
 * `hourly` (jobs from webhooks and imports): up to the hourly allowance, the rest held
 * behind the integration's removals run. `held` (a run's page, which the run's own guard
 * checked): only people already held wait. `approved` (an approved run): none wait.
 */
export type RemovalMode = "hourly" | "held" | "approved";

/**
 * The mass-change guard for removals outside approved runs. People already held wait for
 * their run. Jobs may remove up to maxDisablePercent of the linked people (at least
 * FREE_REMOVALS_PER_HOUR) within a rolling hour, counting the removals already made in it;
 * the rest are held behind the removals run, for an admin to approve or cancel.
 */
async function guardRemovals(db: Db, integration: Integration, toDelete: Removal[], mode: "hourly" | "held"): Promise<{ go: Removal[]; held: { run: RunRow; items: Removal[]; opened: boolean } | null }> {
  const heldRun = await heldRemovalsRun(db, integration.id);
  const already = new Set(heldRun ? (runUserIds(heldRun) ?? []) : []);
  const waiting = toDelete.filter((d) => already.has(d.userId));
  let go = toDelete.filter((d) => !already.has(d.userId));
  let newlyHeld: Removal[] = [];
  let detail = heldRun?.detail ?? "";
  if (mode === "hourly" && go.length) {
    const [linked, recent] = await Promise.all([linkedCount(db, integration.id), removalsSince(db, integration.id, Date.now() - HOUR_MS)]);
    const { maxDisablePercent } = integration.config;
    const allowance = Math.max(FREE_REMOVALS_PER_HOUR, Math.floor((linked * maxDisablePercent) / 100));
    const left = Math.max(0, allowance - recent);
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

/** The removals that may go now; the held ones are recorded as waiting for their run. */
export async function allowedRemovals(db: Db, integration: Integration, removals: Removal[], mode: RemovalMode, out: Outcomes): Promise<Removal[]> {
  if (!removals.length || mode === "approved") return removals;
  const { go, held } = await guardRemovals(db, integration, removals, mode);
  if (held?.opened) {
    // A new removals run waits for an admin: the after handler hears of it (queued with the push's other events).
    const events = runEventRows(integration, "run.held", held.run, countsOf(held.run), Date.now());
    const [first, ...rest] = insertEventsStatements(db, events);
    if (first) await db.batch([first, ...rest]);
    out.emitted.push(...events);
  }
  for (const d of held?.items ?? []) {
    const l = out.current(d.userId);
    if (l?.status === "pending" && l.lastError?.includes(held!.run.id)) continue;
    const message = `The removal of this record is held by the mass-change guard: approve or cancel run ${held!.run.id}.`;
    out.link(d.userId, { remoteId: d.remoteId, status: "pending", lastError: message, pushedVersion: d.version });
    out.log(d.userId, "delete", "skipped", message, d.remoteId);
  }
  return go;
}
