/**
 * How a provider's answer is to be handled (DESIGN.md: "error classification"):
 * - `retry`: passing (429, 5xx, network, a throttled token endpoint) — try again later,
 *   after `retryAfterMs` when the provider said;
 * - `reauth`: the provider no longer accepts our credentials — the integration needs reconnecting;
 * - `bad_data`: the provider refuses this record — retrying will not help;
 * - `bad_request`: the request itself was refused (e.g. an invalid or reused OAuth code).
 * `detail` is safe to show and to log; it never holds a token.
 */
export class ProviderError extends Error {
  constructor(
    /**
     * `config`: the hub's own settings were refused (e.g. a wrong client secret): keep the
     * credentials, retry later. `request`: the provider refused a whole call (a permission
     * removed, a module renamed): the integration pauses with the reason; no record's data is at fault.
     */
    readonly kind: "retry" | "reauth" | "config" | "request" | "bad_data" | "bad_request",
    readonly detail: string,
    readonly retryAfterMs?: number,
  ) {
    super(detail);
    this.name = "ProviderError";
  }
}

/** The integration cannot get a token until someone reconnects it. */
export class ReauthRequired extends ProviderError {
  constructor(detail: string) {
    super("reauth", detail);
    this.name = "ReauthRequired";
  }
}
