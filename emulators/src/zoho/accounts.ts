import { Hono, type Context } from "hono";
import { consentPage, randomHex } from "../html";
import { world, ZOHO_DCS, type ZohoAccount, type ZohoDc } from "../state";

// Zoho Accounts OAuth 2.0 (zoho.com/accounts/protocol/oauth/web-apps/authorization.html,
// multi-dc/client-authorization.html, token-limits.html, revoke-refresh-token.html).

type Env = { Bindings: { EMU_ZOHO_CLIENT_ID: string; EMU_ZOHO_CLIENT_SECRET: string } };

const MINT_WINDOW_MS = 10 * 60 * 1000;
const MAX_REFRESH_TOKENS_PER_USER = 20;
const THROTTLED = {
  error_description: "You have made too many requests continuously. Please try again after some time.",
  error: "Access Denied",
};

/** The base URL of one data centre's service, e.g. `http://127.0.0.1:8788/zoho/eu/accounts`. */
export function dcUrl(c: Context, dc: string, service: "accounts" | "api" | "crm" | "connect" | "people"): string {
  return `${new URL(c.req.url).origin}/zoho/${dc}/${service}`;
}

function dcOf(c: Context): ZohoDc | null {
  const dc = c.req.param("dc");
  return (ZOHO_DCS as readonly string[]).includes(dc ?? "") ? (dc as ZohoDc) : null;
}

export const accounts = new Hono<Env>();

accounts.use("*", async (c, next) => {
  if (!dcOf(c)) return c.json({ error: "unknown data centre" }, 404);
  await next();
});

accounts.get("/oauth/serverinfo", (c) =>
  c.json({ result: "success", locations: Object.fromEntries(ZOHO_DCS.map((dc) => [dc, dcUrl(c, dc, "accounts")])) }),
);

/** The consent page, or with `auto_approve=1&login_hint=<email>` an immediate answer (for API tests). */
accounts.get("/oauth/v2/auth", (c) => {
  const q = c.req.query();
  const problem = checkAuthRequest(c, q);
  if (problem) return c.html(`<h1>Invalid request</h1><p>${problem}</p>`, 400);
  if (q.auto_approve === "1" || q.auto_approve === "true") {
    return approve(c, q, q.login_hint ?? world.zoho.accounts.find((a) => a.dc === dcOf(c))!.email);
  }
  const dc = dcOf(c)!;
  return c.html(
    consentPage({
      title: `Zoho Accounts (${dc.toUpperCase()})`,
      app: q.client_id!,
      scopes: (q.scope ?? "").split(","),
      action: c.req.url,
      fields: q,
      accounts: world.zoho.accounts.map((a) => ({ value: a.email, label: `${a.email} (${a.dc.toUpperCase()})` })),
    }),
  );
});

/** The consent form's answer: Allow or Deny. */
accounts.post("/oauth/v2/auth", async (c) => {
  const form = Object.fromEntries(
    [...(await c.req.formData()).entries()].map(([k, v]) => [k, typeof v === "string" ? v : ""]),
  ) as Record<string, string>;
  const q = { ...c.req.query(), ...form };
  const problem = checkAuthRequest(c, q);
  if (problem) return c.html(`<h1>Invalid request</h1><p>${problem}</p>`, 400);
  if (form.decision !== "allow") {
    return c.redirect(withParams(q.redirect_uri!, { error: "access_denied", state: q.state }), 302);
  }
  return approve(c, q, form.account ?? "");
});

function checkAuthRequest(c: Context<Env>, q: Record<string, string | undefined>): string | null {
  if (q.client_id !== c.env.EMU_ZOHO_CLIENT_ID) return "invalid_client";
  if (q.response_type !== "code") return "response_type must be code";
  if (!q.redirect_uri) return "redirect_uri is required";
  if (!q.scope) return "scope is required";
  return null;
}

function approve(c: Context<Env>, q: Record<string, string | undefined>, email: string): Response {
  const account = world.zoho.accounts.find((a) => a.email.toLowerCase() === email.toLowerCase());
  if (!account) return c.html(`<h1>No such Zoho account</h1><p>${email}</p>`, 400);
  const here = dcOf(c)!;
  if (account.dc !== here) {
    // Multi-DC: the account lives elsewhere; Zoho sends the browser to its data centre.
    const params = { ...q, auto_approve: "1", login_hint: account.email, decision: undefined, account: undefined };
    return c.redirect(withParams(`${dcUrl(c, account.dc, "accounts")}/oauth/v2/auth`, params), 302);
  }
  const code = `1000.${randomHex(16)}.${randomHex(16)}`;
  world.zoho.grants.set(code, {
    code,
    dc: account.dc,
    clientId: q.client_id!,
    redirectUri: q.redirect_uri!,
    scopes: (q.scope ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    account: account.email,
    offline: q.access_type === "offline",
    expiresAt: Date.now() + world.settings.codeTtlSeconds * 1000,
    used: false,
  });
  return c.redirect(
    withParams(q.redirect_uri!, { code, location: account.dc, "accounts-server": dcUrl(c, account.dc, "accounts"), state: q.state }),
    302,
  );
}

/** Parameters from the query string, a form body, or Basic auth, as Zoho accepts all three. */
async function tokenParams(c: Context): Promise<Record<string, string>> {
  const out: Record<string, string> = { ...c.req.query() };
  const type = c.req.header("content-type") ?? "";
  if (type.includes("application/x-www-form-urlencoded") || type.includes("multipart/form-data")) {
    for (const [k, v] of (await c.req.formData()).entries()) if (typeof v === "string") out[k] = v;
  }
  const basic = /^Basic\s+(.+)$/i.exec(c.req.header("authorization") ?? "");
  if (basic) {
    const [id, secret] = atob(basic[1]!).split(":");
    if (id) out.client_id = id;
    if (secret) out.client_secret = secret;
  }
  return out;
}

accounts.post("/oauth/v2/token", async (c) => {
  const p = await tokenParams(c);
  const dc = dcOf(c)!;
  if (p.client_id !== c.env.EMU_ZOHO_CLIENT_ID || p.client_secret !== c.env.EMU_ZOHO_CLIENT_SECRET) {
    return c.json({ error: "invalid_client" });
  }
  const now = Date.now();
  const origin = dcUrl(c, dc, "api");

  if (p.grant_type === "authorization_code") {
    const grant = world.zoho.grants.get(p.code ?? "");
    // A code is single-use, expires after 2 minutes, and is only valid at its own data centre.
    if (!grant || grant.used || grant.expiresAt < now || grant.dc !== dc) return c.json({ error: "invalid_code" });
    if (grant.redirectUri !== p.redirect_uri) return c.json({ error: "invalid_redirect_uri" });
    grant.used = true;
    const scopes = grant.scopes;
    let refreshToken: string | null = null;
    if (grant.offline) {
      refreshToken = `1000.${randomHex(16)}.${randomHex(16)}`;
      world.zoho.refreshTokens.set(refreshToken, { token: refreshToken, dc, clientId: grant.clientId, scopes, account: grant.account, revoked: false, minted: [now] });
      retireOldRefreshTokens(grant.account, grant.clientId);
    }
    const access = mintAccess(dc, scopes, grant.account, refreshToken);
    return c.json({
      access_token: access,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      scope: scopes.join(" "),
      api_domain: origin,
      token_type: "Bearer",
      expires_in: world.settings.accessTokenSeconds,
    });
  }

  if (p.grant_type === "refresh_token") {
    const rt = world.zoho.refreshTokens.get(p.refresh_token ?? "");
    if (!rt || rt.revoked || rt.dc !== dc) return c.json({ error: "invalid_code" });
    rt.minted = rt.minted.filter((t) => now - t < MINT_WINDOW_MS);
    if (rt.minted.length >= world.settings.zohoMintLimit) {
      return c.json(THROTTLED, world.settings.zohoThrottleStatus);
    }
    rt.minted.push(now);
    const access = mintAccess(dc, rt.scopes, rt.account, rt.token);
    return c.json({ access_token: access, scope: rt.scopes.join(" "), api_domain: origin, token_type: "Bearer", expires_in: world.settings.accessTokenSeconds });
  }
  return c.json({ error: "unsupported_grant_type" });
});

/** Revoke (older form): `POST /oauth/v2/token/revoke?token=…`. */
accounts.post("/oauth/v2/token/revoke", async (c) => revoke(c, (await tokenParams(c)).token));

/** Revoke (newer form): Basic client auth with `token` and `token_type`. */
accounts.post("/oauth/v2/revoke/token", async (c) => {
  const p = await tokenParams(c);
  if (p.client_id !== c.env.EMU_ZOHO_CLIENT_ID || p.client_secret !== c.env.EMU_ZOHO_CLIENT_SECRET) return c.json({ error: "invalid_client" }, 400);
  return revoke(c, p.token);
});

function revoke(c: Context, token: string | undefined): Response {
  const rt = world.zoho.refreshTokens.get(token ?? "");
  if (rt) {
    revokeRefreshToken(rt.token);
    return c.json({ status: "success" });
  }
  const at = world.zoho.accessTokens.get(token ?? "");
  if (at) {
    at.revoked = true;
    return c.json({ status: "success" });
  }
  return c.json({ status: "failure", error: "invalid_token" }, 400);
}

/** Revoking a refresh token kills the access tokens minted from it. */
export function revokeRefreshToken(token: string): void {
  const rt = world.zoho.refreshTokens.get(token);
  if (!rt) return;
  rt.revoked = true;
  for (const at of world.zoho.accessTokens.values()) if (at.refreshToken === token) at.revoked = true;
}

function mintAccess(dc: ZohoDc, scopes: string[], account: string, refreshToken: string | null): string {
  const token = `1000.${randomHex(16)}.${randomHex(16)}`;
  world.zoho.accessTokens.set(token, {
    token,
    dc,
    scopes,
    account,
    refreshToken,
    expiresAt: Date.now() + world.settings.accessTokenSeconds * 1000,
    revoked: false,
  });
  return token;
}

function retireOldRefreshTokens(account: string, clientId: string): void {
  const live = [...world.zoho.refreshTokens.values()].filter((t) => t.account === account && t.clientId === clientId && !t.revoked);
  // Zoho: 20 active refresh tokens per user per client; the 21st deletes the oldest.
  for (const old of live.slice(0, Math.max(0, live.length - MAX_REFRESH_TOKENS_PER_USER))) revokeRefreshToken(old.token);
}

function withParams(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

export type { ZohoAccount };
