import { logger } from "../lib/log";
import { createMiddleware } from "hono/factory";
import { bodyLimit } from "hono/body-limit";
import { unsafeKeyError, unsafeKeyPath } from "../lib/json-keys";
import { createDb } from "../db/client";
import { assertSameOrigin, readSession } from "../auth/session";
import { findTenant, findTenantByApiKey } from "../db/tenants.repo";
import { safeEqual } from "../lib/crypto";
import type { AppEnv, TenantEnv } from "./context";
import { AppError } from "./errors";

/** API.md: bodies are limited to 256 KiB unless a route says otherwise (CSV uploads). */
export const DEFAULT_BODY_LIMIT = 256 * 1024;

/** Puts the drizzle client on the context so that handlers never build their own. */
/** Per request: the database, and a logger whose lines carry the request id and path. */
export const withDb = createMiddleware<AppEnv>(async (c, next) => {
  c.set("db", createDb(c.env.DB));
  c.set("log", logger({ requestId: c.get("requestId"), path: c.req.path }));
  await next();
});

/** 413 past `maxSize` bytes, whether or not the client sent Content-Length. */
export function limitBody(maxSize = DEFAULT_BODY_LIMIT) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError("payload_too_large", `The body is larger than ${maxSize} bytes.`);
    },
  });
}

/** Whether a Content-Type names JSON (`application/json`, `application/…+json`, with parameters). */
export function isJsonContentType(type: string | undefined): boolean {
  return /^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(type ?? "");
}

/**
 * 415 for a body that is not JSON on routes that only take JSON, and 422 for JSON that is
 * not an object (every such route takes an object, and valibot's object schemas would read
 * an array as one with no keys) or that names a key `__proto__`, `constructor` or
 * `prototype` (lib/json-keys.ts). Malformed JSON is left to the route's validator (400).
 */
export const requireJsonBody = createMiddleware<AppEnv>(async (c, next) => {
  if (hasBody(c.req.raw)) {
    if (!isJsonContentType(c.req.header("content-type"))) {
      throw new AppError("unsupported_media_type", "Send the body as application/json.");
    }
    // Hono keeps the parsed body, so the validator reads this same value.
    const body: unknown = await c.req.json().catch(() => undefined);
    if (body !== undefined && (body === null || typeof body !== "object" || Array.isArray(body))) {
      throw AppError.validation([{ path: "(body)", message: "Expected a JSON object." }]);
    }
    const unsafe = unsafeKeyPath(body);
    if (unsafe) throw AppError.validation([unsafeKeyError(unsafe)]);
  }
  await next();
});

function hasBody(req: Request): boolean {
  if (req.method === "GET" || req.method === "HEAD") return false;
  const length = req.headers.get("content-length");
  if (length !== null) return Number(length) > 0;
  return req.body !== null;
}

function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

/** Only the operator (OPERATOR_TOKEN) may pass; used for creating tenants. */
export const operatorAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearer(c.req.header("authorization"));
  const expected = c.env.OPERATOR_TOKEN;
  if (!token || !expected || !(await safeEqual(token, expected))) {
    throw AppError.unauthorized("A valid operator token is required.");
  }
  await next();
});

/**
 * Resolves the tenant from a `usk_…` API key, or, without an Authorization header, from
 * the dashboard session cookie. Every tenant route sits behind this.
 */
export const tenantAuth = createMiddleware<TenantEnv>(async (c, next) => {
  const header = c.req.header("authorization");
  if (!header) {
    const session = await readSession(c, c.env);
    const tenant = session ? await findTenant(c.get("db"), session.tenantId) : null;
    if (!session || !tenant) throw AppError.unauthorized("A tenant API key or a dashboard session is required.");
    await assertSameOrigin(c, c.env);
    c.set("tenant", tenant);
    c.set("auth", session.auth);
    return next();
  }
  const token = bearer(header);
  if (!token || !token.startsWith("usk_")) throw AppError.unauthorized("A tenant API key is required.");
  const found = await findTenantByApiKey(c.get("db"), token, Date.now());
  if (!found) throw AppError.unauthorized("The API key is not valid.");
  c.set("tenant", found.tenant);
  // API.md: a tenant API key counts as a recent sign-in.
  c.set("auth", { kind: "apiKey", keyId: found.keyId, authTime: Date.now() });
  await next();
});

/** API.md: sensitive actions need a sign-in within the last 10 minutes. */
export const RECENT_AUTH_MS = 10 * 60 * 1000;

/** 403 `reauth-required` unless the caller signed in recently. */
export const requireRecentAuth = createMiddleware<TenantEnv>(async (c, next) => {
  if (Date.now() - c.get("auth").authTime > RECENT_AUTH_MS) {
    throw new AppError("reauth_required", "Sign in again to do this.");
  }
  await next();
});

/** Seconds a rate-limited caller is told to wait: the limiter's period (wrangler.toml). */
export const INGEST_RETRY_AFTER_S = 10;

/** Per-tenant ingest limit (Workers Rate Limiting binding); 429 with Retry-After past it. */
export async function checkIngestLimit(limiter: RateLimit, tenantId: string): Promise<void> {
  const { success } = await limiter.limit({ key: tenantId });
  if (!success) {
    throw new AppError("rate_limited", "Too many changes for this tenant; try again shortly.", undefined, {
      "retry-after": String(INGEST_RETRY_AFTER_S),
    });
  }
}
