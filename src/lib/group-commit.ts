/**
 * Group commit: callers in one isolate that write at the same time share one write.
 *
 * A caller that finds no write in flight leads: it takes every waiting item (up to
 * `maxGroup`) and writes them in one go, under its own `waitUntil` so that the write
 * outlives its request even if that client goes away. Callers that arrive meanwhile
 * wait for the next group. Alone, a caller writes at once, so a group only grows while
 * a write is in flight anyway: under load one round trip serves many callers, and an
 * idle hub adds no latency.
 *
 * Waiting callers look for their result every `pollMs` on a timer of their own rather
 * than awaiting a promise the leader settles: the Workers runtime does not let one
 * request's promise be settled from another request's I/O ("Cannot perform I/O on
 * behalf of a different request"), and a request with nothing of its own pending is
 * cancelled as hung. Results cross between requests as plain data only.
 *
 * A write that has not answered after `giveUpMs` is given up on: its callers get an
 * error (a webhook sender retries with the same `webhook-id`, which is idempotent) and
 * the next group no longer waits for it, so one lost write cannot stall the isolate.
 */
export class GroupCommit<I, O> {
  readonly #waiting: Waiter<I, O>[] = [];
  /** The write in flight, if any, and when it started. */
  #leader: { since: number } | null = null;

  /**
   * @param write writes a group and answers one settled result per item, in order; a
   *   failure of one item must not fail the others.
   */
  constructor(
    private readonly write: (items: I[], waitUntil: WaitUntil) => Promise<PromiseSettledResult<O>[]>,
    private readonly opts: { maxGroup: number; pollMs: number; giveUpMs: number },
  ) {}

  /** Writes `item` (alone or in a group) and answers its result. */
  async submit(item: I, waitUntil: WaitUntil): Promise<O> {
    const waiter: Waiter<I, O> = { item };
    this.#waiting.push(waiter);
    while (!waiter.outcome) {
      const now = Date.now();
      if (waiter.takenAt !== undefined && now - waiter.takenAt > this.opts.giveUpMs) {
        throw new Error(`The write of this change did not answer within ${this.opts.giveUpMs} ms.`);
      }
      if (!this.#leader || now - this.#leader.since > this.opts.giveUpMs) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([this.#lead(waitUntil), new Promise((resolve) => (timer = setTimeout(resolve, this.opts.giveUpMs)))]);
        clearTimeout(timer);
      } else {
        await new Promise((resolve) => setTimeout(resolve, this.opts.pollMs));
      }
    }
    if (waiter.outcome.status === "rejected") throw waiter.outcome.reason;
    return waiter.outcome.value;
  }

  /** Writes the waiting items (ours among them) in this request; settles when their outcomes are set. */
  #lead(waitUntil: WaitUntil): Promise<void> {
    const leader = { since: Date.now() };
    this.#leader = leader;
    const group = this.#waiting.splice(0, this.opts.maxGroup);
    for (const w of group) w.takenAt = leader.since;
    const settle = (outcomes: PromiseSettledResult<O>[]) =>
      group.forEach((w, i) => {
        w.outcome = outcomes[i] ?? { status: "rejected", reason: new Error("The group write answered no result for this item.") };
      });
    const done = this.write(
      group.map((w) => w.item),
      waitUntil,
    )
      .then(settle, (reason: unknown) => settle(group.map(() => ({ status: "rejected", reason }))))
      .finally(() => {
        if (this.#leader === leader) this.#leader = null;
      });
    waitUntil(done);
    return done;
  }
}

export type WaitUntil = (promise: Promise<unknown>) => void;

interface Waiter<I, O> {
  item: I;
  /** When a group took the item (its write started). */
  takenAt?: number;
  outcome?: PromiseSettledResult<O>;
}
