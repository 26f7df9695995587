import * as v from "valibot";
import type { RunRow } from "../db/schema";
import type { ResolvedConfig } from "../lib/config";

/**
 * Where a pull run is (kept as JSON in the run's cursor): a full pull reads everyone and
 * then disables the people it did not see; an incremental one reads what changed after
 * `since`. `offset` counts the records read so far; `after` is the leavers' id cursor.
 */
const PullState = v.object({
  full: v.boolean(),
  since: v.nullable(v.number()),
  offset: v.number(),
  phase: v.picklist(["read", "leavers"]),
  after: v.string(),
});
export type PullState = v.InferOutput<typeof PullState>;

/** The state a new pull starts from: a full one, or one since the integration's cursor. */
export function pullStart(full: boolean, since: number | null): string {
  return JSON.stringify({ full: full || since === null, since: full ? null : since, offset: 0, phase: "read", after: "" } satisfies PullState);
}

/** The state of a run's cursor; a pull started without one is full. */
export function pullStateOf(run: Pick<RunRow, "cursor">): PullState {
  return run.cursor ? v.parse(PullState, JSON.parse(run.cursor)) : { full: true, since: null, offset: 0, phase: "read", after: "" };
}

const DAY_MS = 86_400_000;
const FULL_PULL_EVERY_MS = { hourly: 3_600_000, daily: DAY_MS, weekly: 7 * DAY_MS } as const;

/**
 * When a source's next pulls are due after `now`, by its schedule (defaults: every 15
 * minutes, a full pull daily). With full pulls off, the full pull's time is still moved a
 * day ahead, so that the schedule does not look at the source at every tick.
 */
export function nextPulls(schedule: ResolvedConfig["schedule"], now: number): { pullDueAt: number; fullPullDueAt: number } {
  const { pullMinutes = 15, fullPull = "daily" } = schedule;
  return { pullDueAt: now + pullMinutes * 60_000, fullPullDueAt: now + (fullPull === "off" ? DAY_MS : FULL_PULL_EVERY_MS[fullPull]) };
}
