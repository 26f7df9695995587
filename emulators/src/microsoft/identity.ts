import { Hono, type Context } from "hono";
import { consentPage, randomHex } from "../html";
import { world } from "../state";

// Microsoft identity platform v2.0: authorization code flow with PKCE, refresh, admin
// consent (learn.microsoft.com/entra/identity-platform).

type Env = { Bindings: { EMU_MICROSOFT_CLIENT_ID: string; EMU_MICROSOFT_CLIENT_SECRET: string } };

const CODE_TTL_MS = 10 * 60 * 1000;
const REFRESH_TTL_MS = 90 * 24 * 3600 * 1000;

export const identity = new Hono<Env>();

function oauthError(c: Context, status: 400 | 401, error: string, description: string) {
  return c.json({ error, error_description: description, error_codes: [status === 401 ? 7000215 : 70008] }, status);
}

function signInAs(): { value: string; label: string }[] {
  return [...world.microsoft.users.values()]
    .filter((u) => !u.removed)
    .slice(0, 20)
    .map((u) => ({ value: String(u.data.userPrincipalName), label: String(u.data.userPrincipalName) }));
}

function firstUser(): string {
  return signInAs()[0]?.value ?? "admin@acme.onmicrosoft.example";
}

async function formOf(c: Context): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const type = c.req.header("content-type") ?? "";
  if (type.includes("form")) for (const [k, v] of (await c.req.formData()).entries()) if (typeof v === "string") out[k] = v;
  return out;
}

function redirect(c: Context, base: string, params: Record<string, string | undefined>) {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return c.redirect(url.toString(), 302);
}

function checkAuthorize(c: Context<Env>, q: Record<string, string | undefined>): string | null {
  if (q.client_id !== c.env.EMU_MICROSOFT_CLIENT_ID) return "AADSTS700016: application not found in the directory";
  if (q.response_type !== "code") return "AADSTS900144: response_type must be code";
  if (!q.redirect_uri) return "AADSTS900144: redirect_uri is required";
  if (q.code_challenge && q.code_challenge_method !== "S256") return "AADSTS501491: only S256 is supported";
  return null;
}

function issueCode(c: Context, q: Record<string, string | undefined>, user: string) {
  const code = `0.A${randomHex(24)}`;
  world.microsoft.grants.set(code, {
    code,
    clientId: q.client_id!,
    redirectUri: q.redirect_uri!,
    scopes: (q.scope ?? "").split(" ").filter(Boolean),
    tenant: c.req.param("tenant") ?? "organizations",
    user,
    codeChallenge: q.code_challenge ?? null,
    expiresAt: Date.now() + CODE_TTL_MS,
    used: false,
  });
  return redirect(c, q.redirect_uri!, { code, state: q.state, session_state: randomHex(8) });
}

identity.get("/:tenant/oauth2/v2.0/authorize", (c) => {
  const q = c.req.query();
  const problem = checkAuthorize(c, q);
  if (problem) return c.html(`<h1>Sign-in error</h1><p>${problem}</p>`, 400);
  if (q.auto_approve === "1" || q.auto_approve === "true") return issueCode(c, q, q.login_hint ?? firstUser());
  return c.html(consentPage({ title: "Microsoft — Permissions requested", app: q.client_id!, scopes: (q.scope ?? "").split(" "), action: c.req.url, fields: q, accounts: signInAs() }));
});

identity.post("/:tenant/oauth2/v2.0/authorize", async (c) => {
  const form = await formOf(c);
  const q = { ...c.req.query(), ...form };
  const problem = checkAuthorize(c, q);
  if (problem) return c.html(`<h1>Sign-in error</h1><p>${problem}</p>`, 400);
  if (form.decision !== "allow") {
    return redirect(c, q.redirect_uri!, { error: "access_denied", error_description: "AADSTS65004: User declined to consent to access the app.", state: q.state });
  }
  return issueCode(c, q, form.account ?? firstUser());
});

/** Admin consent: no code, just `admin_consent=True&tenant=…` (or an error). */
identity.get("/:tenant/v2.0/adminconsent", (c) => {
  const q = c.req.query();
  if (q.client_id !== c.env.EMU_MICROSOFT_CLIENT_ID) return c.html("<h1>AADSTS700016: application not found</h1>", 400);
  if (!q.redirect_uri) return c.html("<h1>redirect_uri is required</h1>", 400);
  if (q.auto_approve === "1" || q.auto_approve === "true") {
    return redirect(c, q.redirect_uri, { admin_consent: "True", tenant: world.microsoft.tenantId, state: q.state, scope: q.scope });
  }
  if (q.decision === "deny") {
    return redirect(c, q.redirect_uri, { error: "access_denied", error_description: "AADSTS65004: The admin declined to consent.", state: q.state });
  }
  return c.html(consentPage({ title: "Microsoft — Admin consent", app: q.client_id, scopes: [q.scope ?? ""], action: `${c.req.url}&auto_approve=1`, fields: {}, accounts: signInAs() }));
});

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  let s = "";
  for (const b of digest) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function idToken(user: string, clientId: string): string {
  const enc = (o: unknown) => btoa(JSON.stringify(o)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const u = [...world.microsoft.users.values()].find((x) => x.data.userPrincipalName === user);
  return `${enc({ alg: "none", typ: "JWT" })}.${enc({ aud: clientId, iss: `https://login.microsoftonline.com/${world.microsoft.tenantId}/v2.0`, tid: world.microsoft.tenantId, oid: u?.id ?? "unknown", preferred_username: user, name: u?.data.displayName ?? user })}.`;
}

function tokenAnswer(c: Context, clientId: string, scopes: string[], user: string, withRefresh: boolean) {
  const now = Date.now();
  const access = `eyJ0eXAiOiJKV1QiLCJub25jZSI6IkVNVSJ9.${randomHex(32)}`;
  world.microsoft.tokens.set(access, { token: access, kind: "access", clientId, scopes, user, expiresAt: now + world.settings.accessTokenSeconds * 1000, revoked: false });
  const body: Record<string, unknown> = {
    token_type: "Bearer",
    scope: scopes.filter((s) => s !== "offline_access" && s !== "openid" && s !== "profile").join(" "),
    expires_in: world.settings.accessTokenSeconds - 1,
    ext_expires_in: world.settings.accessTokenSeconds - 1,
    access_token: access,
  };
  if (withRefresh && scopes.includes("offline_access")) {
    const refresh = `0.A${randomHex(40)}`;
    world.microsoft.tokens.set(refresh, { token: refresh, kind: "refresh", clientId, scopes, user, expiresAt: now + REFRESH_TTL_MS, revoked: false });
    body.refresh_token = refresh;
  }
  if (scopes.includes("openid")) body.id_token = idToken(user, clientId);
  return c.json(body);
}

identity.post("/:tenant/oauth2/v2.0/token", async (c) => {
  const p = await formOf(c);
  if (p.client_id !== c.env.EMU_MICROSOFT_CLIENT_ID || p.client_secret !== c.env.EMU_MICROSOFT_CLIENT_SECRET) {
    return oauthError(c, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
  }
  if (p.grant_type === "authorization_code") {
    const grant = world.microsoft.grants.get(p.code ?? "");
    if (!grant || grant.used || grant.expiresAt < Date.now()) return oauthError(c, 400, "invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired or was already used.");
    if (grant.redirectUri !== p.redirect_uri) return oauthError(c, 400, "invalid_grant", "AADSTS50148: The redirect_uri does not match the one in the authorization request.");
    if (grant.codeChallenge && (!p.code_verifier || (await s256(p.code_verifier)) !== grant.codeChallenge)) {
      return oauthError(c, 400, "invalid_grant", "AADSTS50148: The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.");
    }
    grant.used = true;
    return tokenAnswer(c, grant.clientId, grant.scopes, grant.user, true);
  }
  if (p.grant_type === "refresh_token") {
    const rt = world.microsoft.tokens.get(p.refresh_token ?? "");
    if (!rt || rt.kind !== "refresh" || rt.revoked || rt.expiresAt < Date.now()) {
      return oauthError(c, 400, "invalid_grant", "AADSTS700082: The refresh token has expired or been revoked.");
    }
    // Microsoft rotates refresh tokens: the answer carries a new one.
    return tokenAnswer(c, rt.clientId, rt.scopes, rt.user, true);
  }
  return oauthError(c, 400, "unsupported_grant_type", "AADSTS70003: unsupported grant type");
});
