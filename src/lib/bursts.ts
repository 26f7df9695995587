/**
 * Whether things are arriving for a key faster than one at a time: `limit` or more of them
 * within the last `windowMs`. Counted in this isolate only (a hub with many isolates sees
 * part of a tenant's traffic in each), which is enough to choose how to queue a push:
 * the choice changes what a push costs, never what it does.
 */
export class Bursts {
  readonly #seen = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one arrival for `key`. */
  note(key: string, now = Date.now()): void {
    const times = this.#seen.get(key) ?? [];
    times.push(now);
    if (times.length > this.limit) times.shift();
    this.#seen.set(key, times);
    if (this.#seen.size > 10_000) this.#forgetQuiet(now);
  }

  /** True when `key` had `limit` arrivals or more within the last `windowMs`. */
  busy(key: string, now = Date.now()): boolean {
    const times = this.#seen.get(key);
    return times !== undefined && times.length >= this.limit && now - times[0]! <= this.windowMs;
  }

  #forgetQuiet(now: number): void {
    for (const [key, times] of this.#seen) if (now - times.at(-1)! > this.windowMs) this.#seen.delete(key);
  }
}

/**
 * The directory changes each tenant sent this isolate lately. Five within a quarter of a
 * second (20 a second) is a burst: its pushes wait for full batches; slower changes are
 * pushed at once.
 */
export const tenantBursts = new Bursts(5, 250);
