import type { Context } from "hono";
import { world, ZOHO_DCS, type ZohoAccessToken, type ZohoDc } from "../state";

/** Zoho's request-level error body, e.g. 401 INVALID_TOKEN (OAS v8.0). */
export function zohoError(c: Context, status: 400 | 401 | 403 | 404 | 405, code: string, message: string, details: Record<string, unknown> = {}) {
  return c.json({ code, details, message, status: "error" }, status);
}

/** Whether one granted scope covers a needed one: `X.ALL` covers every `X.…` below it. */
function covers(granted: string, needed: string): boolean {
  const g = granted.toLowerCase();
  const n = needed.toLowerCase();
  if (g === n) return true;
  return g.endsWith(".all") && n.startsWith(g.slice(0, -3));
}

/**
 * Checks `Authorization: Zoho-oauthtoken <token>` (only in the header) for the route's
 * data centre and scope. Answers the Zoho error, or null and the token when it passes.
 */
export function checkZohoToken(c: Context, neededScope: string): { error: Response; token?: never } | { error: null; token: ZohoAccessToken } {
  const header = c.req.header("authorization") ?? "";
  const match = /^Zoho-oauthtoken\s+(\S+)$/i.exec(header);
  const dc = c.req.param("dc") as ZohoDc;
  const token = match ? world.zoho.accessTokens.get(match[1]!) : undefined;
  if (!match) return { error: zohoError(c, 401, "AUTHENTICATION_FAILURE", "Authentication failed") };
  if (!token || token.revoked || token.expiresAt <= Date.now() || token.dc !== dc || !(ZOHO_DCS as readonly string[]).includes(dc)) {
    return { error: zohoError(c, 401, "INVALID_TOKEN", "invalid oauth token") };
  }
  if (!token.scopes.some((s) => covers(s, neededScope))) {
    return { error: zohoError(c, 401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL") };
  }
  return { error: null, token };
}
