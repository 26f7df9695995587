import { assertIntegrationAllowed } from "../../integrations/allowed";
import { Hono, type Context } from "hono";
import { html } from "hono/html";
import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import { getCookie } from "hono/cookie";
import { readSession, SESSION_COOKIE } from "../../auth/session";
import { sha256Hex } from "../../lib/crypto";
import { connectScopes, connector, ProviderError } from "../../connectors";
import { updateIntegrationStatement } from "../../db/integrations.repo";
import { getIntegration } from "../../integrations/store";
import type { AppEnv } from "../../http/context";
import { AppError } from "../../http/errors";
import { problems, PUBLIC } from "../../http/openapi";
import { validate } from "../../http/validate";
import { pendingActionsFor, statusFor } from "../../integrations/lifecycle";
import { consumeState } from "../../integrations/oauth-state";
import { sealTokens, storeCredentialsStatement } from "../../integrations/tokens";
import { settings } from "../../settings";
import { startInitialResync } from "../../runs/start";
import { chooseOnlyNetwork } from "../../http/actions";
import { connectedNote, readConnectedNote } from "../../auth/connected-note";
import { disownConnection } from "../../integrations/tokens";
import { authorizeUrlFor } from "../../integrations/oauth-state";

const tags = ["OAuth and dashboard"];

const DisownForm = v.object({ connected: v.pipe(v.string(), v.minLength(1, "connected is required."), v.maxLength(4000)) });

const CallbackQuery = v.looseObject({
  state: v.pipe(v.string(), v.minLength(1, "state is required."), v.maxLength(2000)),
  code: v.optional(v.pipe(v.string(), v.maxLength(4000))),
  error: v.optional(v.pipe(v.string(), v.maxLength(200))),
  location: v.optional(v.pipe(v.string(), v.maxLength(20))),
  "accounts-server": v.optional(v.pipe(v.string(), v.maxLength(300))),
});

/** What binds an OAuth state to the dashboard session that started it: a hash of the session cookie, or "" without one. */
async function sessionBinding(c: Context<AppEnv>): Promise<string> {
  const cookie = getCookie(c, SESSION_COOKIE);
  return cookie ? sha256Hex(`oauth-state:${cookie}`) : "";
}

function oauthContext(c: Context<AppEnv>) {
  const s = settings(c.env);
  return { env: c.env, settings: s, redirectUri: `${s.publicUrl}/oauth/callback` };
}

/** The dashboard session of the request (already read, or read now), or 401. */
async function session(c: Context<AppEnv>, read?: Awaited<ReturnType<typeof readSession>>) {
  const s = read === undefined ? await readSession(c, c.env) : read;
  if (!s) throw AppError.unauthorized("Sign in to the dashboard through your app first (GET /auth/sso).");
  return s;
}

export const oauthRoutes = new Hono<AppEnv>()
  /**
   * The provider sends the browser back here. The state is verified and used up first;
   * then the code is exchanged (at the server the provider names in the callback, if the settings allow it),
   * the tokens stored encrypted, and the browser sent to the integration's page.
   */
  .get(
    "/oauth/callback",
    describeRoute({
      tags,
      summary: "OAuth redirect URI: exchanges the code and stores the credentials",
      description: "Public: the signed, single-use `state` is the credential. Starts the integration's initial resync.",
      security: PUBLIC,
      responses: { 302: { description: "To the integration's dashboard page, with a short-lived signed note that a browser without a session sees as a page saying what was connected" }, ...problems(400, 403, 404, 503) },
    }),
    validate("query", CallbackQuery, { invalid: "bad_request" }),
    async (c) => {
      const query = c.req.valid("query") as Record<string, string>;
      const db = c.get("db");
      const { tenantId, integrationId, codeVerifier, via, boundTo } = await consumeState(db, c.env, query.state!);
      if (boundTo && boundTo !== (await sessionBinding(c))) {
        throw new AppError("bad_request", "This connect was started from the dashboard in another browser or session; nothing was stored. Start connecting again from your dashboard.");
      }
      if (query.error) throw new AppError("bad_request", `The provider did not grant access (${query.error}); nothing was stored.`);
      if (!query.code) throw new AppError("bad_request", "The callback carries no code.");
      const integration = await getIntegration(db, tenantId, integrationId);
      if (!integration) throw new AppError("bad_request", "The integration no longer exists.");
      const def = connector(integration.provider);
      // A connect started before the operator took the provider away stores nothing.
      await assertIntegrationAllowed(db, integration, def.facts.name);
      const s = settings(c.env);
      let exchanged;
      try {
        exchanged = await def.oauth.exchange(
          oauthContext(c),
          { code: query.code, query, codeVerifier, scopes: connectScopes(def, integration.config) },
        );
      } catch (err) {
        if (err instanceof ProviderError && err.kind === "fatal") throw new AppError("bad_request", err.detail);
        if (err instanceof ProviderError) throw new AppError("unavailable", `${def.facts.name} could not be reached; try connecting again. (${err.detail})`);
        throw err;
      }
      const pendingActions = pendingActionsFor(def, integration.config, true, false);
      const status = statusFor(integration.status, pendingActions);
      const sealed = await sealTokens(c.env, integration.id, exchanged.tokens);
      // Who consented, for every page that shows the connection (best effort).
      const account = def.oauth.account ? await def.oauth.account.describe(oauthContext(c), { accessToken: exchanged.tokens.accessToken, connection: exchanged.connection }) : {};
      const connection = { ...exchanged.connection, ...account };
      await db.batch([
        // In this order: the connection counts a new connection version, which the credentials take.
        updateIntegrationStatement(db, tenantId, integrationId, { connection, pendingActions, status, lastError: null }),
        storeCredentialsStatement(db, integration, sealed),
      ]);
      const connected = await chooseOnlyNetwork(db, c.env, (await getIntegration(db, tenantId, integrationId))!, via);
      // Everyone already in the directory, and every job parked while it could not run, goes now.
      const run = await startInitialResync(db, c.env, connected, via);
      const landing = new URL(`${s.publicUrl}/dashboard/integrations/${integrationId}`);
      // A browser without a session still learns what was connected, from a short-lived signed note.
      landing.searchParams.set("connected", await connectedNote(c.env, { tenantId, integrationId, runId: run?.id ?? null, connectionVersion: connected.connectionVersion }));
      return c.redirect(landing.toString(), 302);
    },
  )
  .get(
    "/connect/:id",
    describeRoute({ tags, summary: "Dashboard: redirect to the provider's consent page", security: [{ session: [] }], responses: { 302: { description: "To the provider" }, ...problems(401, 403, 404) } }),
    async (c) => {
      const s = await session(c);
      if (!s.auth.permissions.includes("manage_integrations")) throw new AppError("forbidden", "This needs the manage_integrations permission.");
      const integration = await getIntegration(c.get("db"), s.tenantId, c.req.param("id"));
      if (!integration) throw AppError.notFound("integration");
      // The state is bound to this browser's session: its callback is refused anywhere else.
      return c.redirect(await authorizeUrlFor(c.get("db"), c.env, integration, "dashboard", await sessionBinding(c)), 302);
    },
  )
  .post(
    "/oauth/disown",
    describeRoute({
      tags,
      summary: "\"This wasn't me\": disconnect and revoke the connect just made",
      security: PUBLIC,
      description:
        "The form on the page the OAuth callback lands on. `connected` is that page's signed note: the connection it names (and not a later one) is removed at once, its runs end, the integration waits for a connect, and the grant is revoked at the provider.",
      responses: { 200: { description: "A page saying what was disconnected and whether the provider confirmed the revoke", content: { "text/html": { schema: { type: "string" } } } }, ...problems(400, 404, 409) },
    }),
    validate("form", DisownForm, { invalid: "bad_request" }),
    async (c) => {
      const note = await readConnectedNote(c.env, c.req.valid("form").connected);
      if (!note) throw new AppError("bad_request", "This link has expired or is not one the hub made; nothing was changed. Ask the organisation that sent you to remove the connection.");
      const db = c.get("db");
      const integration = await getIntegration(db, note.tenantId, note.integrationId);
      if (!integration) throw AppError.notFound("integration");
      const conn = integration.connection;
      const who = `${conn?.accountEmail ?? "The person who consented"}${conn?.orgName ? ` (${conn.orgName})` : ""}`;
      const reason = `${who} said this connect was not theirs ("This wasn't me") at ${new Date().toISOString()}: the connection was removed and its access revoked. Connect again from your dashboard.`;
      const { disowned, revoked } = await disownConnection(db, c.env, integration, note.connectionVersion, reason);
      if (!disowned) throw AppError.conflict("The integration was connected again since; that later connection was not changed.");
      const name = connector(integration.provider).facts.name;
      return c.html(html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Disconnected — usersync</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}</style></head>
<body>
<h1>usersync is disconnected</h1>
<p id="disowned">${conn?.orgName ?? `Your ${name}`} is disconnected from usersync: nothing more is sent to it or read from it.</p>
${revoked
  ? html`<p id="revoked">The access you granted was revoked at ${name}.</p>`
  : html`<p id="revoked">${name} did not confirm revoking the access. Remove usersync from the connected apps of your ${name} account to be sure.</p>`}
</body></html>`);
    },
  );
