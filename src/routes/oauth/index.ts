import { Hono, type Context } from "hono";
import { html } from "hono/html";
import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import { getCookie } from "hono/cookie";
import { readSession, SESSION_COOKIE } from "../../auth/session";
import { sha256Hex } from "../../lib/crypto";
import { connectScopes, connector, ProviderError } from "../../connectors";
import { linkStats, updateIntegrationStatement } from "../../db/integrations.repo";
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
import { findTenant } from "../../db/tenants.repo";
import { getRun } from "../../db/runs.repo";
import { connectedNote, readConnectedNote, type ConnectedNote } from "../../auth/connected-note";
import type { Connection } from "../../connectors/contract";
import { disownConnection } from "../../integrations/tokens";
import { authorizeUrlFor } from "../../integrations/oauth-state";

const tags = ["OAuth and dashboard"];

const DisownForm = v.object({ connected: v.pipe(v.string(), v.minLength(1, "connected is required."), v.maxLength(4000)) });

/** The connected account, as the pages after consent and the integration page show it. */
function accountRows(conn: Connection) {
  return html`<dt>Connected account</dt><dd id="account">${conn.accountEmail ?? "unknown"}</dd>
<dt>Organisation</dt><dd id="org">${conn.orgName ?? "unknown"}${conn.orgId ? ` (${conn.orgId})` : ""}</dd>`;
}

/** "This wasn't me": for whoever consented to a connect they did not mean (e.g. a link another organisation sent). */
function disownForm(noteToken: string) {
  return html`<form method="post" action="/oauth/disown" id="disown">
<input type="hidden" name="connected" value="${noteToken}">
<p>Not your organisation, or not a connect you meant to make? <button type="submit">This wasn't me</button> disconnects it at once and revokes the access you granted.</p>
</form>`;
}

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
      responses: { 302: { description: "To the integration's dashboard page, with a short-lived signed note that a browser without a session sees as a page saying what was connected" }, ...problems(400, 404, 503) },
    }),
    validate("query", CallbackQuery),
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
      const connected = (await getIntegration(db, tenantId, integrationId))!;
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
    validate("form", DisownForm),
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
  )
  .get("/dashboard/integrations/:id", async (c) => {
    const current = await readSession(c, c.env);
    const noteToken = c.req.query("connected");
    const note = await readConnectedNote(c.env, noteToken);
    if (note && note.integrationId === c.req.param("id") && (!current || current.tenantId !== note.tenantId)) return connectedPage(c, note, noteToken!);
    const s = await session(c, current);
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
${integration.connection ? accountRows(integration.connection) : ""}
<dt>People</dt><dd>${Object.entries(stats).map(([k, n]) => `${k}: ${n}`).join(" · ")}</dd>
${integration.lastError ? html`<dt>Last error</dt><dd>${integration.lastError}</dd>` : ""}
</dl>
${integration.pendingActions.some((a) => a === "connect" || a === "reconnect") ? html`<p><a href="/connect/${integration.id}">Connect ${connector(integration.provider).facts.name}</a></p>` : ""}
${note?.integrationId === integration.id && note.connectionVersion === integration.connectionVersion ? disownForm(noteToken!) : ""}
</body></html>`);
  });

/**
 * What a browser that has no dashboard session sees after consent: what was connected
 * (tenant, provider, data centre, accounts server) and what happens next.
 */
async function connectedPage(c: Context<AppEnv>, note: ConnectedNote, noteToken: string) {
  const db = c.get("db");
  const [tenant, integration, run] = await Promise.all([
    findTenant(db, note.tenantId),
    getIntegration(db, note.tenantId, note.integrationId),
    note.runId ? getRun(db, note.tenantId, note.runId) : null,
  ]);
  if (!tenant || !integration) throw AppError.notFound("integration");
  const name = connector(integration.provider).facts.name;
  const conn = integration.connection;
  return c.html(html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${name} connected — usersync</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}dt{font-weight:600}dd{margin:0 0 .5rem}</style></head>
<body>
<h1>${name} is connected</h1>
<p>${tenant.name}'s integration <strong>${integration.name}</strong> is ${integration.status === "active" ? "active" : `waiting for: ${integration.pendingActions.join(", ")}`}.</p>
<dl id="connection">
<dt>Tenant</dt><dd>${tenant.name}</dd>
${conn ? accountRows(conn) : ""}
<dt>Data centre</dt><dd>${conn?.dataCenter ?? "—"}</dd>
<dt>Accounts server</dt><dd>${conn?.accountsServer ?? "—"}</dd>
<dt>API domain</dt><dd>${conn?.apiDomain ?? "—"}</dd>
<dt>Connected at</dt><dd>${conn?.connectedAt ?? "—"}</dd>
</dl>
<h2>What happens next</h2>
${run
  ? html`<p id="next">Everyone already in your directory is being pushed to ${name} now (run <code>${run.id}</code>). From now on, each person your app adds, changes or disables reaches ${name} within seconds, and a scheduled reconciliation repairs whatever drifts.</p>`
  : html`<p id="next">From now on, each person your app adds, changes or disables reaches ${name} within seconds.</p>`}
<p>You can close this window. Your admins see the integration, its people and its runs in the usersync dashboard of your app.</p>
${note.connectionVersion === integration.connectionVersion ? disownForm(noteToken) : ""}
</body></html>`);
}
