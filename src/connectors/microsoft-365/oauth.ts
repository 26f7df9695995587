import { ProviderError } from "../errors";
import { jsonBody, providerFetch, retryAfterMs } from "../http";
import type { Connection, OAuthContext, OAuthProvider, TokenSet } from "../contract";

// Microsoft identity platform v2.0, authorization code flow with PKCE
// (learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow).

/** Work accounts of any directory; `common` is not usable for admin consent. */
const AUTHORITY = "organizations";

function credentials(ctx: OAuthContext) {
  const secret = ctx.env.MICROSOFT_CLIENT_SECRET;
  if (!ctx.env.MICROSOFT_CLIENT_ID || !secret) {
    throw new ProviderError("fatal", "Microsoft is not configured on this hub (MICROSOFT_CLIENT_ID, MICROSOFT_CLIENT_SECRET).");
  }
  return { client_id: ctx.env.MICROSOFT_CLIENT_ID, client_secret: secret };
}

async function tokenCall(ctx: OAuthContext, params: Record<string, string>) {
  const res = await providerFetch(`${ctx.settings.microsoftLoginUrl}/${AUTHORITY}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...credentials(ctx), ...params }),
  });
  const body = (await jsonBody(res)) as Record<string, unknown> | null;
  if (res.status === 429) throw new ProviderError("retryAfter", "Microsoft answered 429", retryAfterMs(res) ?? 60_000);
  if (res.status >= 500 || body === null) throw new ProviderError("transient", `Microsoft answered ${res.status}`);
  return { status: res.status, body };
}

function tokenSet(body: Record<string, unknown>, fallbackScopes: string[]): TokenSet {
  if (typeof body.access_token !== "string") throw new ProviderError("transient", "Microsoft answered without an access token");
  return {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : null,
    expiresAt: Date.now() + (typeof body.expires_in === "number" ? body.expires_in : 3599) * 1000,
    scopes: typeof body.scope === "string" ? body.scope.split(" ").filter(Boolean) : fallbackScopes,
  };
}

/** The directory id (`tid`) from an id_token; only read, the token came straight from the token endpoint. */
function directoryOf(idToken: unknown): string | null {
  if (typeof idToken !== "string") return null;
  try {
    const payload = JSON.parse(atob(idToken.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { tid?: unknown };
    return typeof payload.tid === "string" ? payload.tid : null;
  } catch {
    return null;
  }
}

export const microsoftOAuth: OAuthProvider = {
  usesPkce: true,

  authorizeUrl(ctx, { state, scopes, codeChallenge }) {
    const url = new URL(`${ctx.settings.microsoftLoginUrl}/${AUTHORITY}/oauth2/v2.0/authorize`);
    url.searchParams.set("client_id", ctx.env.MICROSOFT_CLIENT_ID);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("redirect_uri", ctx.redirectUri);
    url.searchParams.set("response_mode", "query");
    url.searchParams.set("scope", scopes.join(" "));
    url.searchParams.set("state", state);
    url.searchParams.set("code_challenge", codeChallenge!);
    url.searchParams.set("code_challenge_method", "S256");
    return url.toString();
  },

  async exchange(ctx, { code, codeVerifier, scopes }) {
    const { status, body } = await tokenCall(ctx, {
      grant_type: "authorization_code",
      code,
      redirect_uri: ctx.redirectUri,
      code_verifier: codeVerifier ?? "",
    });
    if (status >= 400) throw new ProviderError("fatal", `Microsoft refused the authorization code (${String(body.error ?? status)}).`);
    const tokens = tokenSet(body, scopes);
    if (!tokens.refreshToken) throw new ProviderError("fatal", "Microsoft gave no refresh token (offline_access was not granted).");
    const connection: Connection = {
      accountsServer: null,
      apiDomain: ctx.settings.microsoftGraphUrl,
      dataCenter: null,
      directoryId: directoryOf(body.id_token),
      scopes: tokens.scopes,
      connectedAt: new Date().toISOString(),
    };
    return { tokens, connection };
  },

  async refresh(ctx, { connection, refreshToken }) {
    const { status, body } = await tokenCall(ctx, { grant_type: "refresh_token", refresh_token: refreshToken });
    if (status === 400 && body.error === "invalid_grant") {
      throw new ProviderError("reauth", "Microsoft rejected the refresh token (invalid_grant): it expired or was revoked.");
    }
    if (status === 401 || body.error === "invalid_client" || body.error === "unauthorized_client") {
      throw new ProviderError("config", `Microsoft refused the hub's client credentials (${String(body.error ?? status)}): check MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET. The connection is kept and tried again.`, 5 * 60_000);
    }
    if (status >= 400) throw new ProviderError("transient", `Microsoft refused the refresh (${String(body.error ?? status)}).`);
    // Microsoft rotates refresh tokens; the new one replaces the old.
    return tokenSet(body, connection.scopes);
  },

  async revoke() {
    // The identity platform has no endpoint that revokes one refresh token (only all of a
    // user's sessions); deleting the integration forgets the token instead.
  },
};
