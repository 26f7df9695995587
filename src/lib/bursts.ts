/** `limit` arrivals or more within `windowMs`. */
export interface BurstRule {
  limit: number;
  windowMs: number;
}

/**
 * Whether things are arriving for a key faster than one at a time: by any of its rules,
 * `limit` or more of them within the last `windowMs`. Counted in this isolate only (a hub
 * with many isolates sees part of a tenant's traffic in each), which is enough to choose
 * how to queue a push: the choice changes what a push costs, never what it does.
 */
export class Bursts {
  readonly #seen = new Map<string, number[]>();
  readonly #keep: number;
  readonly #longestMs: number;

  constructor(private readonly rules: BurstRule[]) {
    this.#keep = Math.max(...rules.map((r) => r.limit));
    this.#longestMs = Math.max(...rules.map((r) => r.windowMs));
  }

  /** Counts one arrival for `key`. */
  note(key: string, now = Date.now()): void {
    const times = this.#seen.get(key) ?? [];
    times.push(now);
    if (times.length > this.#keep) times.shift();
    this.#seen.set(key, times);
    if (this.#seen.size > 10_000) this.#forgetQuiet(now);
  }

  /** True when, by one of the rules, `key` had `limit` arrivals or more within its window. */
  busy(key: string, now = Date.now()): boolean {
    const times = this.#seen.get(key);
    if (!times) return false;
    return this.rules.some(({ limit, windowMs }) => times.length >= limit && now - times[times.length - limit]! <= windowMs);
  }

  #forgetQuiet(now: number): void {
    for (const [key, times] of this.#seen) if (now - times.at(-1)! > this.#longestMs) this.#seen.delete(key);
  }
}

const perTenant = new Bursts([
  { limit: 5, windowMs: 250 },
  { limit: 3, windowMs: 50 },
]);
const wholeHub = new Bursts([{ limit: 15, windowMs: 250 }]);

/**
 * The directory changes this isolate took lately. A tenant that sent five within a quarter
 * of a second (20 a second), or three within 50 ms (arriving together, as a sender's burst
 * starts), is in a burst; so is every tenant while the isolate takes 15 changes within a
 * quarter of a second (60 a second) from all of them together, since under load a push per
 * change would take the time the ingest needs. In a burst, pushes wait for full batches;
 * otherwise a change is pushed at once.
 */
export const tenantBursts = {
  note(tenantId: string, now = Date.now()): void {
    perTenant.note(tenantId, now);
    wholeHub.note("", now);
  },
  busy(tenantId: string, now = Date.now()): boolean {
    return perTenant.busy(tenantId, now) || wholeHub.busy("", now);
  },
};
