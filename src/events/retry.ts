/**
 * An `after` handler's event: the seconds to wait after attempt n (1-based) before attempt
 * n + 1, ± 10 % so that receivers that were down are not hit all at once. Eight attempts
 * over about 27.6 hours, never less than 24.8 (docs/handlers.md); no wait is longer than a
 * queue message may be delayed (12 hours).
 */
export const EVENT_RETRY_SCHEDULE = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600] as const;
export const EVENT_MAX_ATTEMPTS = EVENT_RETRY_SCHEDULE.length + 1;

export function eventRetryDelaySeconds(attempt: number, random = Math.random()): number {
  const base = EVENT_RETRY_SCHEDULE[attempt - 1] ?? EVENT_RETRY_SCHEDULE[EVENT_RETRY_SCHEDULE.length - 1]!;
  return Math.max(1, Math.round(base * (1 + 0.1 * (2 * random - 1))));
}
