import { Hono, type Context } from "hono";
import { html } from "hono/html";
import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import { openSession, readSession, verifySsoToken } from "../../auth/session";
import { provider, ProviderError } from "../../connectors";
import { getIntegration, linkStats, updateIntegrationStatement } from "../../db/integrations.repo";
import type { AppEnv } from "../../http/context";
import { AppError } from "../../http/errors";
import { problems } from "../../http/openapi";
import { validate } from "../../http/validate";
import { pendingActionsFor, statusFor } from "../../integrations/lifecycle";
import { consumeState } from "../../integrations/oauth-state";
import { sealTokens, storeCredentialsStatement } from "../../integrations/tokens";
import { settings } from "../../settings";
import { requeuePending } from "../../sync/requeue";
import { authorizeUrlFor } from "../integrations/integrations.handlers";

const tags = ["OAuth and dashboard"];

const CallbackQuery = v.looseObject({
  state: v.pipe(v.string(), v.minLength(1, "state is required."), v.maxLength(2000)),
  code: v.optional(v.pipe(v.string(), v.maxLength(4000))),
  error: v.optional(v.pipe(v.string(), v.maxLength(200))),
  location: v.optional(v.pipe(v.string(), v.maxLength(20))),
  "accounts-server": v.optional(v.pipe(v.string(), v.maxLength(300))),
});

/** The dashboard session of the request, or 401. */
async function session(c: Context<AppEnv>) {
  const s = await readSession(c, c.env);
  if (!s) throw AppError.unauthorized("Sign in to the dashboard through your app first (GET /auth/sso).");
  return s;
}

export const oauthRoutes = new Hono<AppEnv>()
  /**
   * The provider sends the browser back here. The state is verified and used up first;
   * then the code is exchanged (for Zoho at the accounts server it names, if configured),
   * the tokens stored encrypted, and the browser sent to the integration's page.
   */
  .get(
    "/oauth/callback",
    describeRoute({
      tags,
      summary: "OAuth redirect URI: exchanges the code and stores the credentials",
      responses: { 302: { description: "To the integration's dashboard page" }, ...problems(400) },
    }),
    validate("query", CallbackQuery),
    async (c) => {
      const query = c.req.valid("query") as Record<string, string>;
      const db = c.get("db");
      const { tenantId, integrationId, codeVerifier } = await consumeState(db, c.env, query.state!);
      if (query.error) throw new AppError("bad_request", `The provider did not grant access (${query.error}); nothing was stored.`);
      if (!query.code) throw new AppError("bad_request", "The callback carries no code.");
      const integration = await getIntegration(db, tenantId, integrationId);
      if (!integration) throw new AppError("bad_request", "The integration no longer exists.");
      const def = provider(integration.provider);
      const s = settings(c.env);
      let exchanged;
      try {
        exchanged = await def.oauth.exchange(
          { env: c.env, settings: s, redirectUri: `${s.publicUrl}/oauth/callback` },
          { code: query.code, query, codeVerifier, scopes: def.scopesFor(integration.config) },
        );
      } catch (err) {
        if (err instanceof ProviderError && err.kind === "bad_request") throw new AppError("bad_request", err.detail);
        if (err instanceof ProviderError) throw new AppError("unavailable", `${def.name} could not be reached; try connecting again. (${err.detail})`);
        throw err;
      }
      const pendingActions = pendingActionsFor(def, integration.config, true, false);
      const status = statusFor(integration.status, pendingActions);
      const sealed = await sealTokens(c.env, integration.id, exchanged.tokens);
      await db.batch([
        storeCredentialsStatement(db, integration, sealed),
        updateIntegrationStatement(db, tenantId, integrationId, { connection: exchanged.connection, pendingActions, status, lastError: null }),
      ]);
      // Jobs parked while the integration could not run go now.
      if (status === "active") c.executionCtx.waitUntil(requeuePending(db, c.env.JOBS, integration));
      return c.redirect(`${s.publicUrl}/dashboard/integrations/${integrationId}`, 302);
    },
  )
  .get(
    "/connect/:id",
    describeRoute({ tags, summary: "Dashboard: redirect to the provider's consent page", responses: { 302: { description: "To the provider" }, ...problems(401, 403, 404) } }),
    async (c) => {
      const s = await session(c);
      if (!s.auth.permissions.includes("manage_integrations")) throw new AppError("forbidden", "This needs the manage_integrations permission.");
      const integration = await getIntegration(c.get("db"), s.tenantId, c.req.param("id"));
      if (!integration) throw AppError.notFound("integration");
      return c.redirect(await authorizeUrlFor(c.get("db"), c.env, integration), 302);
    },
  )
  .get(
    "/auth/sso",
    describeRoute({
      tags,
      summary: "Sign in to the dashboard from the host app",
      description: "`token` is a JWT signed with the tenant's SSO secret (HS256) carrying `tenant`, `sub`, `email`, `name`, `permissions`, `iat` and `exp` (≤ 5 minutes). Sets the session cookie.",
      responses: { 302: { description: "To `next` (a path on this hub) or the dashboard" }, ...problems(401) },
    }),
    async (c) => {
      const verified = await verifySsoToken(c.get("db"), c.env, c.req.query("token") ?? "");
      await openSession(c, c.env, { tenantId: verified.tenant.id, sub: verified.sub, email: verified.email, name: verified.name, permissions: verified.permissions });
      const next = c.req.query("next");
      return c.redirect(next && /^\/[^/\\]/.test(next) ? next : "/dashboard", 302);
    },
  )
  .get("/dashboard/integrations/:id", async (c) => {
    const s = await session(c);
    const integration = await getIntegration(c.get("db"), s.tenantId, c.req.param("id"));
    if (!integration) throw AppError.notFound("integration");
    const stats = await linkStats(c.get("db"), integration.id);
    return c.html(html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${integration.name} — usersync</title>
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}dt{font-weight:600}</style></head>
<body>
<h1>${integration.name}</h1>
<dl>
<dt>Provider</dt><dd>${integration.provider}</dd>
<dt>Status</dt><dd id="status">${integration.status}</dd>
<dt>Still to do</dt><dd id="pending">${integration.pendingActions.join(", ") || "nothing"}</dd>
<dt>Connected</dt><dd>${integration.connection ? `${integration.connection.connectedAt} (${integration.connection.apiDomain})` : "no"}</dd>
<dt>People</dt><dd>${Object.entries(stats).map(([k, n]) => `${k}: ${n}`).join(" · ")}</dd>
${integration.lastError ? html`<dt>Last error</dt><dd>${integration.lastError}</dd>` : ""}
</dl>
${integration.pendingActions.some((a) => a === "connect" || a === "reconnect") ? html`<p><a href="/connect/${integration.id}">Connect ${provider(integration.provider).name}</a></p>` : ""}
</body></html>`);
  });
