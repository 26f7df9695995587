import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { decodeJwt, jwtVerify, SignJWT, type JWTPayload } from "jose";
import type { Db } from "../db/client";
import { useSignInToken } from "../db/oauth.repo";
import { findTenant, validSecrets } from "../db/tenants.repo";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { hmacBase64Url, safeEqual } from "../lib/crypto";
import { utf8 } from "../lib/encoding";

/** How the caller proved who they are; `authTime` decides what counts as a recent sign-in. */
export type Auth =
  | { kind: "apiKey"; keyId: string; authTime: number }
  | { kind: "session"; sub: string; email: string; permissions: string[]; authTime: number };

export const SESSION_COOKIE = "usersync_session";
/** How long a dashboard session lasts; sensitive actions still need authTime ≤ 10 minutes old. */
const SESSION_TTL_S = 8 * 60 * 60;
/** API.md: the sign-in JWT lives at most 5 minutes. */
const SSO_MAX_LIFETIME_S = 5 * 60;
const SESSION_AUDIENCE = "usersync:session";
export const PERMISSIONS = ["manage_integrations", "manage_users"] as const;

/** Clock skew tolerated for a sign-in token's `iat` (the host app's clock may run a little ahead). */
const IAT_SKEW_S = 30;

/**
 * Verifies a sign-in JWT from the host app (HS256 with the tenant's SSO secret; `tenant`
 * names the tenant) and answers the session it opens. The JWT must carry sub, email, jti,
 * iat (not in the future) and exp, live at most 5 minutes, and be used once: its `jti`
 * is remembered until it expires. `redirect` is answered only when it is one of the
 * hub's own `/dashboard` pages.
 */
export async function verifySsoToken(db: Db, env: Env, token: string) {
  let unverified: Record<string, unknown>;
  try {
    unverified = decodeJwt(token);
  } catch {
    throw AppError.unauthorized("The sign-in token is not a JWT.");
  }
  const tenantId = typeof unverified.tenant === "string" ? unverified.tenant : null;
  const tenant = tenantId ? await findTenant(db, tenantId) : null;
  if (!tenant) throw AppError.unauthorized("The sign-in token names no known tenant.");
  for (const secret of await validSecrets(db, env.ENCRYPTION_KEY, tenant.id, "sso")) {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, utf8(secret.value), { algorithms: ["HS256"], requiredClaims: ["sub", "email", "iat", "exp", "jti"] }));
    } catch {
      continue;
    }
    if (payload.exp! - payload.iat! > SSO_MAX_LIFETIME_S) throw AppError.unauthorized("The sign-in token may live at most 5 minutes.");
    if (payload.iat! > Date.now() / 1000 + IAT_SKEW_S) throw AppError.unauthorized("The sign-in token was issued in the future.");
    if (!(await useSignInToken(db, tenant.id, String(payload.jti), payload.exp! * 1000))) throw AppError.unauthorized("The sign-in token was used already; ask the app for a new one.");
    const permissions = Array.isArray(payload.permissions) ? payload.permissions.filter((p): p is string => (PERMISSIONS as readonly string[]).includes(String(p))) : [];
    return {
      tenant,
      sub: String(payload.sub),
      email: String(payload.email),
      name: typeof payload.name === "string" ? payload.name : "",
      permissions,
      redirect: dashboardPath(env, payload.redirect),
    };
  }
  throw AppError.unauthorized("The sign-in token's signature or times are not valid.");
}

/** A `/dashboard…` path on the hub's own origin, normalised, or null for anything else. */
export function dashboardPath(env: Env, redirect: unknown): string | null {
  if (typeof redirect !== "string" || redirect.length > 2000) return null;
  const origin = new URL(env.PUBLIC_URL || "http://localhost").origin;
  let url: URL;
  try {
    url = new URL(redirect, origin);
  } catch {
    return null;
  }
  if (url.origin !== origin || !/^\/dashboard(\/|$)/.test(url.pathname)) return null;
  return `${url.pathname}${url.search}`;
}

const LOOPBACK = /^(localhost|127\.0\.0\.1|\[::1\])$/;

/**
 * What is wrong with a tenant's sign-in page, or null: it must be an https URL without
 * credentials; a plain-http loopback page is accepted only when the hub itself runs on
 * plain-http loopback (development, `npm start`).
 */
export function signInUrlProblem(raw: string, publicUrl: string | undefined): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Not a URL.";
  }
  if (url.username || url.password) return "Must not carry credentials.";
  if (url.protocol === "https:") return null;
  const hub = new URL(publicUrl || "http://localhost");
  if (url.protocol === "http:" && LOOPBACK.test(url.hostname) && hub.protocol === "http:" && LOOPBACK.test(hub.hostname)) return null;
  return "Must be an https URL.";
}

/**
 * Where to send an admin who must sign in again to come back to `path`: the tenant's
 * sign-in page with `redirect`, or null when the tenant has none.
 */
export function signInAgainUrl(signInUrl: string | null, path: string): string | null {
  if (!signInUrl) return null;
  const url = new URL(signInUrl);
  url.searchParams.set("redirect", path);
  return url.toString();
}

/** Sets the session cookie (jose, HS256, SESSION_SECRET), recording when the person signed in. */
export async function openSession(c: Context, env: Env, session: { tenantId: string; sub: string; email: string; name: string; permissions: string[] }) {
  const authTime = Date.now();
  const jwt = await new SignJWT({ tid: session.tenantId, email: session.email, name: session.name, permissions: session.permissions, authTime })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(session.sub)
    .setAudience(SESSION_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${SESSION_TTL_S}s`)
    .sign(utf8(env.SESSION_SECRET));
  setCookie(c, SESSION_COOKIE, jwt, {
    httpOnly: true,
    secure: new URL(env.PUBLIC_URL || "http://localhost").protocol === "https:",
    sameSite: "Lax",
    path: "/",
    maxAge: SESSION_TTL_S,
  });
}

/** The session carried by the request's cookie, or null. */
export async function readSession(c: Context, env: Env): Promise<{ tenantId: string; auth: Extract<Auth, { kind: "session" }> } | null> {
  const cookie = getCookie(c, SESSION_COOKIE);
  if (!cookie) return null;
  try {
    const { payload } = await jwtVerify(cookie, utf8(env.SESSION_SECRET), { audience: SESSION_AUDIENCE, algorithms: ["HS256"] });
    if (typeof payload.tid !== "string" || typeof payload.sub !== "string" || typeof payload.authTime !== "number") return null;
    return {
      tenantId: payload.tid,
      auth: {
        kind: "session",
        sub: payload.sub,
        email: String(payload.email ?? ""),
        permissions: Array.isArray(payload.permissions) ? payload.permissions.map(String) : [],
        authTime: payload.authTime,
      },
    };
  } catch {
    return null;
  }
}

/** The CSRF token of a session: bound to its cookie, so it dies with it. Pages put it in forms. */
export function csrfToken(env: Env, sessionCookie: string): Promise<string> {
  return hmacBase64Url(env.SESSION_SECRET, `csrf:${sessionCookie}`);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * API.md: a state-changing request authenticated by the session cookie must come from the
 * hub's own origin (`Origin`) or carry the session's CSRF token (`x-csrf-token`); else 403.
 */
export async function assertSameOrigin(c: Context, env: Env): Promise<void> {
  if (SAFE_METHODS.has(c.req.method)) return;
  const origin = c.req.header("origin");
  if (origin && origin === new URL(env.PUBLIC_URL || "http://localhost").origin) return;
  const given = c.req.header("x-csrf-token");
  const cookie = getCookie(c, SESSION_COOKIE);
  if (given && cookie && (await safeEqual(given, await csrfToken(env, cookie)))) return;
  throw new AppError("forbidden", "A dashboard request that changes something must come from the hub's own pages (Origin) or carry the CSRF token.");
}
