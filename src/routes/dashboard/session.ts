import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { csrfToken, readSession, SESSION_COOKIE, signInAgainUrl, type Auth } from "../../auth/session";
import type { Tenant } from "../../db/schema";
import { findTenant } from "../../db/tenants.repo";
import type { AppEnv } from "../../http/context";
import { limitBody, RECENT_AUTH_MS } from "../../http/middleware";
import { MAX_UPLOAD_BYTES } from "../../directory/csv";
import type { Permission } from "../../http/permissions";
import { safeEqual } from "../../lib/crypto";
import { AppError } from "../../lib/errors";

/** A dashboard request: the signed-in admin's tenant, session and the page's CSRF token. */
export interface DashEnv extends AppEnv {
  Variables: AppEnv["Variables"] & {
    tenant: Tenant;
    auth: Extract<Auth, { kind: "session" }>;
    csrf: string;
  };
}

export type Dash = Context<DashEnv>;

/** The most a dashboard form (not a file upload) may send. */
const FORM_BYTES = 64 * 1024;

/** Thrown when a page needs a session and there is none: answered by the sign-in page. */
export class SignedOut extends Error {}

/**
 * Every /dashboard page needs a session. A post must carry the session's CSRF token (a
 * form's `_csrf` field, or for any other body the `x-csrf-token` header), whatever its
 * Origin: a missing or wrong one is a 403 and nothing changes.
 */
export const dashboardSession = createMiddleware<DashEnv>(async (c, next) => {
  const session = await readSession(c, c.env);
  const tenant = session ? await findTenant(c.get("db"), session.tenantId) : null;
  if (!session || !tenant) throw new SignedOut();
  const cookie = getCookie(c, SESSION_COOKIE)!;
  const csrf = await csrfToken(c.env, cookie);
  c.set("tenant", tenant);
  c.set("auth", session.auth);
  c.set("csrf", csrf);
  if (c.req.method === "POST") {
    // A form carries the token as `_csrf`; a script's request (a file streamed as it is) in
    // `x-csrf-token`, checked before anything reads the body. A form is read only within its
    // limit: 64 KiB, or an upload's size for the Import page's file form.
    const type = c.req.header("content-type") ?? "";
    const isForm = /^(multipart\/form-data|application\/x-www-form-urlencoded)\b/i.test(type);
    let fromForm: unknown;
    if (isForm) {
      const isUpload = c.req.path === "/dashboard/imports" && /^multipart\/form-data\b/i.test(type);
      await limitBody(isUpload ? MAX_UPLOAD_BYTES + FORM_BYTES : FORM_BYTES)(c, async () => {
        fromForm = (await c.req.parseBody())._csrf;
      });
    }
    const given = typeof fromForm === "string" ? fromForm : isForm ? "" : (c.req.header("x-csrf-token") ?? "");
    if (!given || !(await safeEqual(given, csrf))) throw new AppError("forbidden", "This form has expired or did not come from your dashboard; nothing was changed. Reload the page and try again.");
  }
  await next();
});

/** 403 unless the session carries the permission. */
export function need(c: Dash, permission: Permission): void {
  if (!c.get("auth").permissions.includes(permission)) throw new AppError("forbidden", `This needs the ${permission} permission; ask your app's administrator for it.`);
}

/**
 * Sensitive actions need a sign-in within the last 10 minutes. Otherwise the admin is sent
 * to the tenant's sign-in page, which signs them in again and brings them back to `backTo`;
 * a tenant without one gets a 403 saying what to do.
 */
export function freshSignIn(c: Dash, backTo: string): Response | null {
  if (Date.now() - c.get("auth").authTime <= RECENT_AUTH_MS) return null;
  const url = signInAgainUrl(c.get("tenant").signInUrl, backTo);
  if (url) return c.redirect(url, 303);
  throw new AppError("reauth_required", "This needs a sign-in within the last 10 minutes. Open the dashboard again from your app, then repeat this step.");
}

/** A form's fields as strings (files are not taken). */
export async function formOf(c: Dash): Promise<Record<string, string>> {
  const body = await c.req.parseBody();
  return Object.fromEntries(Object.entries(body).flatMap(([k, v]) => (typeof v === "string" ? [[k, v]] : [])));
}
