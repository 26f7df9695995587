import { describe, expect, it } from "vitest";
import { EVENT_MAX_ATTEMPTS, EVENT_RETRY_SCHEDULE, eventRetryDelaySeconds } from "../../src/events/retry";

// docs/handlers.md: eight attempts over more than 24 hours, each wait jittered by ± 10 %,
// none longer than a queue message may be delayed (12 hours).
describe("the after handler's retry schedule", () => {
  it("spans more than 24 hours in eight attempts, jittered within ±10 % and never past the queue's 12-hour delay", () => {
    expect(EVENT_MAX_ATTEMPTS).toBe(8);
    const shortest = EVENT_RETRY_SCHEDULE.reduce((sum, _, i) => sum + eventRetryDelaySeconds(i + 1, 0), 0);
    expect(shortest).toBeGreaterThan(24 * 3600);
    for (let attempt = 1; attempt < EVENT_MAX_ATTEMPTS; attempt++) {
      const base = EVENT_RETRY_SCHEDULE[attempt - 1]!;
      const low = eventRetryDelaySeconds(attempt, 0);
      const high = eventRetryDelaySeconds(attempt, 0.999999);
      expect(low).toBeGreaterThanOrEqual(Math.floor(base * 0.9));
      expect(high).toBeLessThanOrEqual(Math.ceil(base * 1.1));
      // Jitter spreads every wait of a minute or more (5 s ± 10 % rounds to 5 s either way).
      if (base >= 60) expect(low).toBeLessThan(high);
      expect(high).toBeLessThanOrEqual(43_200);
    }
  });
});
