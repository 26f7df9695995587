/**
 * What went wrong with a provider call, as one typed union that the engine switches on
 * exhaustively (never on message text). A connector's client produces it.
 * - `transient`: passing (5xx, network, a broken answer, contention): try again, after
 *   `retryAfterMs` when known;
 * - `retryAfter`: the provider asked to wait (`TOO_MANY_REQUESTS`, a throttled token
 *   endpoint): wait `retryAfterMs`; the whole integration pauses;
 * - `reauth`: the grant is gone (a refresh token revoked): the integration needs reconnecting;
 * - `config`: the hub's own settings were refused (e.g. a wrong client secret): keep the
 *   credentials, retry later, show the operator why;
 * - `request`: the provider refused a whole call (a permission removed, a module renamed):
 *   the integration pauses with the reason; no record's data is at fault;
 * - `badData`: the provider refuses this one record (see `field`): retrying will not help;
 * - `conflict`: the record changed at the provider since it was read: read it again;
 * - `fatal`: the request cannot succeed as made (an invalid or reused OAuth code, a
 *   provider the hub is not configured for).
 * `detail` is safe to show and to log; it never holds a token.
 */
export type ProviderErrorKind = "transient" | "retryAfter" | "reauth" | "config" | "request" | "badData" | "conflict" | "fatal";

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    readonly detail: string,
    readonly retryAfterMs?: number,
    /** `badData`: the field the provider named, if any. */
    readonly field?: string,
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

/** What the engine does about a provider error that stopped a whole call. */
export interface ErrorHandling {
  /** The integration waits for a reconnect; nothing is retried until then. */
  stop: boolean;
  /** The whole integration waits `retryAfterMs` (the provider asked, or refused the call). */
  pause: boolean;
}

export function handlingOf(err: ProviderError): ErrorHandling {
  switch (err.kind) {
    case "reauth":
      return { stop: true, pause: false };
    case "retryAfter":
    case "request":
    case "config":
      return { stop: false, pause: true };
    case "transient":
    case "conflict":
    case "badData":
    case "fatal":
      return { stop: false, pause: false };
    default:
      return err.kind satisfies never;
  }
}
