import { ProviderError } from "../errors";
import { jsonBody, providerFetch, retryAfterMs } from "../http";
import type { Connection, OAuthContext, OAuthProvider, TokenSet } from "../contract";
import { findDataCenter, zohoDataCenters } from "./datacenters";
import { withoutTrailingSlash } from "../../lib/url";

// Zoho Accounts OAuth 2.0 for server-based clients with multi-DC
// (zoho.com/accounts/protocol/oauth/web-apps/authorization.html, multi-dc/client-authorization.html).

/** The throttle answer of the token endpoint (HTTP 200 or 400 depending on the page). */
const THROTTLED = /too many requests/i;

/** The configured data centre whose accounts server is `server`, or null. */
function credentials(ctx: OAuthContext) {
  const secret = ctx.env.ZOHO_CLIENT_SECRET;
  if (!ctx.env.ZOHO_CLIENT_ID || !secret) throw new ProviderError("fatal", "Zoho is not configured on this hub (ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET).");
  return { client_id: ctx.env.ZOHO_CLIENT_ID, client_secret: secret };
}

async function tokenCall(accounts: string, params: Record<string, string>) {
  const res = await providerFetch(`${withoutTrailingSlash(accounts)}/oauth/v2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params),
  });
  const body = (await jsonBody(res)) as Record<string, unknown> | null;
  if (res.status >= 500 || body === null) throw new ProviderError("transient", `Zoho Accounts answered ${res.status}`);
  const error = typeof body.error === "string" ? body.error : null;
  if (error) {
    const description = typeof body.error_description === "string" ? body.error_description : "";
    if (THROTTLED.test(description)) {
      // 10 access tokens per refresh token per 10 minutes: wait out the window.
      throw new ProviderError("retryAfter", "Zoho Accounts throttled token requests", 60_000);
    }
    return { error, body };
  }
  return { error: null, body };
}

function tokenSet(body: Record<string, unknown>, fallbackScopes: string[]): TokenSet {
  const accessToken = body.access_token;
  if (typeof accessToken !== "string") throw new ProviderError("transient", "Zoho Accounts answered without an access token");
  const expiresIn = typeof body.expires_in === "number" ? body.expires_in : 3600;
  const scope = typeof body.scope === "string" && body.scope ? body.scope.split(/[ ,]+/) : fallbackScopes;
  return {
    accessToken,
    refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : null,
    expiresAt: Date.now() + expiresIn * 1000,
    scopes: scope,
  };
}

/** How long after a refused client secret the refresh is tried again. */
const CONFIG_RETRY_MS = 5 * 60_000;

export const zohoOAuth: OAuthProvider = {
  usesPkce: false,

  authorizeUrl(ctx, { state, scopes }) {
    // Connect links point at the first configured data centre; Zoho sends the user on to theirs.
    const url = new URL(`${zohoDataCenters(ctx.env)[0]!.accounts}/oauth/v2/auth`);
    url.searchParams.set("client_id", ctx.env.ZOHO_CLIENT_ID);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("redirect_uri", ctx.redirectUri);
    url.searchParams.set("scope", scopes.join(","));
    // Only offline access returns a refresh token; prompt=consent gets a new one each time.
    url.searchParams.set("access_type", "offline");
    url.searchParams.set("prompt", "consent");
    url.searchParams.set("state", state);
    return url.toString();
  },

  async exchange(ctx, { code, query, scopes }) {
    const centers = zohoDataCenters(ctx.env);
    const server = query["accounts-server"];
    // The code must be exchanged at the accounts server Zoho names, and only one we know.
    const dc = server ? findDataCenter(ctx.env, { accounts: server }) : (findDataCenter(ctx.env, { id: query.location }) ?? centers[0]!);
    if (!dc) throw new ProviderError("fatal", "The accounts-server is not one of the configured Zoho data centres.");
    const { error, body } = await tokenCall(dc.accounts, {
      grant_type: "authorization_code",
      ...credentials(ctx),
      redirect_uri: ctx.redirectUri,
      code,
    });
    if (error) throw new ProviderError("fatal", `Zoho refused the authorization code (${error}).`);
    const apiDomain = typeof body.api_domain === "string" ? withoutTrailingSlash(body.api_domain) : dc.api;
    if (apiDomain !== dc.api) throw new ProviderError("fatal", "Zoho answered an api_domain that is not the data centre's.");
    const tokens = tokenSet(body, scopes);
    if (!tokens.refreshToken) throw new ProviderError("fatal", "Zoho gave no refresh token (offline access was not granted).");
    const connection: Connection = {
      accountsServer: dc.accounts,
      apiDomain,
      dataCenter: dc.id,
      directoryId: null,
      scopes: tokens.scopes,
      connectedAt: new Date().toISOString(),
    };
    return { tokens, connection };
  },

  async refresh(ctx, { connection, refreshToken }) {
    const { error, body } = await tokenCall(connection.accountsServer!, { grant_type: "refresh_token", ...credentials(ctx), refresh_token: refreshToken });
    if (error === "invalid_code") {
      throw new ProviderError("reauth", `Zoho rejected the refresh token (${error}): it was revoked or the app was removed.`);
    }
    // The hub's own client settings, not the tenant's grant: the grant may be fine.
    if (error === "invalid_client" || error === "invalid_redirect_uri" || error === "unauthorized_client") {
      throw new ProviderError("config", `Zoho refused the hub's client credentials (${error}): check ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET. The connection is kept and tried again.`, CONFIG_RETRY_MS);
    }
    if (error) throw new ProviderError("transient", `Zoho refused the refresh (${error}).`);
    return tokenSet(body, connection.scopes);
  },

  async revoke(_ctx, { connection, refreshToken }) {
    const url = new URL(`${connection.accountsServer}/oauth/v2/token/revoke`);
    url.searchParams.set("token", refreshToken);
    // 2xx revoked; 400 and 401 mean the token is already invalid: the goal is reached.
    // 429, 5xx and network failures are tried again, then left to the caller.
    for (let attempt = 0; ; attempt++) {
      let status: number;
      let wait: number | undefined;
      try {
        const res = await providerFetch(url.toString(), { method: "POST" });
        if (res.status < 429 || (res.status > 429 && res.status < 500)) return;
        status = res.status;
        wait = retryAfterMs(res);
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        status = 0;
      }
      if (attempt >= 2) throw new ProviderError("transient", `Zoho Accounts answered ${status || "nothing"} to the revoke; try again shortly.`, wait ?? 30_000);
      await new Promise((r) => setTimeout(r, Math.min(wait ?? 250 * 3 ** attempt, 2_000)));
    }
  },
};
