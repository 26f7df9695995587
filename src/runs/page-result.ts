import type { RunCounts } from "../db/vocabulary";
import type { GroupOutcome } from "../sync/push";

/**
 * What one page of a run came to: the push's outcome (done, retry, stopped), or `later`:
 * the provider's limits ask the page to wait, which it does without spending a retry.
 * `more`: another page follows; `held`: the page held the run for an admin.
 */
export type PageResult = (GroupOutcome | { kind: "later"; delayMs: number; reason: string; counts: RunCounts }) & { more?: boolean; held?: boolean };
