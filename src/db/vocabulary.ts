/**
 * The words the tables store, for every layer to name: what a log line did, what a run
 * is and counts. Tables (db/schema.ts) are read and written in db/ only; these are not tables.
 */
export const LOG_ACTIONS = ["create", "update", "disable", "delete", "link", "skip", "invite", "group.add", "group.remove"] as const;

export const RUN_KINDS = ["resync", "reconcile", "import", "pull"] as const;
export const RUN_STATUSES = ["running", "held", "done", "failed", "cancelled"] as const;
export const RUN_TRIGGERS = ["schedule", "api", "dashboard", "pickup"] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** What a run counts, person by person (a column each): API.md's six `counts`, plus `linked` and `unmatched`. */
export const COUNT_KEYS = ["created", "updated", "unchanged", "disabled", "excluded", "failed", "linked", "unmatched"] as const;
export type RunCounts = Record<(typeof COUNT_KEYS)[number], number>;

/** Two sets of counts added up. */
export function sumCounts(a: RunCounts, b: RunCounts): RunCounts {
  return Object.fromEntries(COUNT_KEYS.map((k) => [k, a[k] + b[k]])) as RunCounts;
}

export function noCounts(): RunCounts {
  return Object.fromEntries(COUNT_KEYS.map((k) => [k, 0])) as RunCounts;
}
