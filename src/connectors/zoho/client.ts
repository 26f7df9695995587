import { ProviderError } from "../errors";
import { jsonBody, providerFetch, retryAfterMs } from "../http";
import type { ConnectorContext } from "../contract";
import { findDataCenter } from "./datacenters";

export type { ConnectorContext } from "../contract";

/**
 * One call to the Zoho API domain of the integration's data centre, with
 * `Authorization: Zoho-oauthtoken`. A 401 INVALID_TOKEN refreshes once (shared with
 * every other caller) and retries; 429 is `retryAfter`, 5xx and network failures `transient` (with
 * Zoho's `retry_after` or `Retry-After`); other 401s are `reauth`.
 */
export async function zohoApi(ctx: ConnectorContext, method: string, path: string, body?: unknown, host?: string, opts: { once?: boolean } = {}): Promise<{ status: number; body: unknown }> {
  // The calls that are safe to repeat (reads, upsert with the duplicate check, update by
  // id, delete that treats "gone" as done) are tried again here twice after a 5xx or a
  // broken connection before the queue's slower retry takes over. A call that creates
  // (`once`: Connect's invitations and groups) is not: its answer may be lost after it
  // was made, and its caller looks before making it again.
  for (let attempt = 0; ; attempt++) {
    try {
      return await zohoCall(ctx, method, path, body, host ?? ctx.connection.apiDomain);
    } catch (err) {
      // Not what the provider asked to wait for (a 429, a throttled refresh): that is the queue's to wait out.
      const passing = err instanceof ProviderError && err.kind === "transient" && err.retryAfterMs === undefined;
      if (!passing || opts.once || attempt >= 2) throw err;
      await new Promise((r) => setTimeout(r, 250 * 3 ** attempt));
    }
  }
}

/**
 * The host of a Zoho product (`people`, `connect`) in the integration's data centre, from
 * ZOHO_DATA_CENTERS: a data centre without one is a configuration fault, not the tenant's.
 */
export function zohoProductHost(ctx: ConnectorContext, product: "people" | "connect"): string {
  const { dataCenter, accountsServer } = ctx.connection;
  const host = findDataCenter(ctx.env, { id: dataCenter, accounts: accountsServer })?.[product];
  if (!host) throw new ProviderError("config", `ZOHO_DATA_CENTERS names no ${product} host for the data centre ${dataCenter ?? accountsServer}.`);
  return host;
}

async function zohoCall(ctx: ConnectorContext, method: string, path: string, body: unknown, host: string): Promise<{ status: number; body: unknown }> {
  let token = await ctx.tokens.get();
  // A URLSearchParams body goes as a form (Zoho Connect), anything else as JSON.
  const form = body instanceof URLSearchParams;
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await providerFetch(`${host}${path}`, {
        method,
        headers: { authorization: `Zoho-oauthtoken ${token.token}`, ...(body !== undefined ? { "content-type": form ? "application/x-www-form-urlencoded" : "application/json" } : {}) },
        ...(body !== undefined ? { body: form ? body.toString() : JSON.stringify(body) } : {}),
      });
    } catch (err) {
      // The connection failed or timed out once the request was on its way: it may have been done.
      if (err instanceof ProviderError && err.kind === "transient") throw new AnswerLost(err.detail);
      throw err;
    }
    if (res.status === 204) return { status: 204, body: null };
    const json = (await jsonBody(res)) as { code?: string; message?: string; details?: { retry_after?: number } } | null;
    if (res.status === 401) {
      if (json?.code === "INVALID_TOKEN" && attempt === 0) {
        token = await ctx.tokens.get({ rejectedVersion: token.version });
        continue;
      }
      if (json?.code === "INVALID_TOKEN") throw new ProviderError("transient", "Zoho refused a freshly refreshed token.", 5_000);
      throw new ProviderError("reauth", `Zoho refused the credentials (${json?.code ?? 401}).`);
    }
    if (res.status === 429) {
      const seconds = json?.details?.retry_after;
      throw new ProviderError("retryAfter", "Zoho answered TOO_MANY_REQUESTS.", typeof seconds === "number" ? seconds * 1000 : (retryAfterMs(res) ?? 60_000));
    }
    if (res.status >= 500) {
      const wait = retryAfterMs(res);
      throw wait === undefined ? new AnswerLost(`Zoho answered ${res.status}.`) : new ProviderError("transient", `Zoho answered ${res.status}.`, wait);
    }
    if (json === null) throw new AnswerLost(`Zoho's answer to ${method} ${path.split("?")[0]} broke off.`);
    return { status: res.status, body: json };
  }
}

/**
 * A call's answer was lost once it was sent (a 5xx, a broken or timed-out connection):
 * what it asked for may have been done. A passing failure like any other (`transient`);
 * a caller whose call creates something looks before it makes it again.
 */
export class AnswerLost extends ProviderError {
  constructor(detail: string) {
    super("transient", detail);
  }
}

export function answerLost(err: unknown): err is AnswerLost {
  return err instanceof AnswerLost;
}
