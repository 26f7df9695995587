import { ProviderError } from "./errors";

/** How long one provider call may take before it counts as a network failure. */
export const PROVIDER_TIMEOUT_MS = 20_000;

/**
 * `fetch` to a provider host taken from settings, with a timeout; network failures and
 * timeouts become a `transient` ProviderError. The URL is never logged with its query
 * (it may carry a token).
 */
export async function providerFetch(url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: "manual", signal: init.signal ?? AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
  } catch (err) {
    const where = new URL(url);
    throw new ProviderError("transient", `network error calling ${where.origin}${where.pathname}: ${err instanceof Error ? err.name : "error"}`);
  }
}

/** The JSON body of a response, or null when there is none or it is not JSON (e.g. a dropped connection). */
export async function jsonBody(res: Response): Promise<unknown> {
  try {
    const text = await res.text();
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    return null;
  }
}

/** `Retry-After` in milliseconds (seconds, fractions allowed, or an HTTP date), if present. */
export function retryAfterMs(res: Response): number | undefined {
  const value = res.headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
