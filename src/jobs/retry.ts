/** Exponential back-off with full jitter, capped at an hour. */
export function backoffSeconds(attempts: number): number {
  const ceiling = Math.min(3600, 2 ** Math.min(attempts, 12));
  return Math.max(1, Math.round(Math.random() * ceiling));
}

/** The provider's wait when it gave one (never less), else the back-off. */
export function retryDelaySeconds(attempts: number, providerWaitMs: number | undefined): number {
  const backoff = backoffSeconds(attempts);
  return providerWaitMs === undefined ? backoff : Math.max(Math.ceil(providerWaitMs / 1000), Math.min(backoff, 5));
}
