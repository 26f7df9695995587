import type { Db } from "../db/client";
import { insertEventsStatements } from "../db/events.repo";
import type { Integration } from "../integrations/store";
import { holdRemovalsPastGuard, runHeldEvents } from "./guard";
import type { Outcomes } from "./outcomes";
import type { Removal } from "./decide";

/**
 * How the mass-change guard treats removals (records deleted under `onDelete: delete`).
 * `hourly` (jobs from webhooks and imports): up to the hourly allowance, the rest held
 * behind the integration's removals run. `held` (a run's page, which the run's own guard
 * checked): only people already held wait. `approved` (an approved run): none wait.
 */
export type RemovalMode = "hourly" | "held" | "approved";

/** The removals that may go now; the held ones are recorded as waiting for their run. */
export async function allowedRemovals(db: Db, integration: Integration, removals: Removal[], mode: RemovalMode, out: Outcomes): Promise<Removal[]> {
  if (!removals.length || mode === "approved") return removals;
  const { go, held } = await holdRemovalsPastGuard(db, integration, removals, mode);
  if (held?.opened) {
    // A new removals run waits for an admin: the after handler hears of it (queued with the push's other events).
    const events = runHeldEvents(integration, held.run);
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
