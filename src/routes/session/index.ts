import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { openSession, verifySsoToken } from "../../auth/session";
import type { AppEnv } from "../../http/context";
import { problems, PUBLIC } from "../../http/openapi";

const tags = ["OAuth and dashboard"];

/** Signing in to the dashboard from the host app. */
export const sessionRoutes = new Hono<AppEnv>()
  .get(
    "/auth/sso",
    describeRoute({
      tags,
      summary: "Sign in to the dashboard from the host app",
      security: PUBLIC,
      description:
        "`token` is a JWT signed with the tenant's SSO secret (HS256) carrying `tenant`, `sub`, `email`, `name`, `permissions`, `jti` (single use), `iat` (not in the future), `exp` (≤ 5 minutes after `iat`) and optionally `redirect` (a `/dashboard…` path on this hub). Sets the session cookie.",
      responses: { 302: { description: "To the token's `redirect` when it is one of the hub's /dashboard pages, else /dashboard" }, ...problems(401) },
    }),
    async (c) => {
      const verified = await verifySsoToken(c.get("db"), c.env, c.req.query("token") ?? "");
      await openSession(c, c.env, { tenantId: verified.tenant.id, sub: verified.sub, email: verified.email, name: verified.name, permissions: verified.permissions });
      return c.redirect(verified.redirect ?? "/dashboard", 302);
    },
  );
