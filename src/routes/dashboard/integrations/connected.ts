import type { Context } from "hono";
import { html } from "hono/html";
import type { ConnectedNote } from "../../../auth/connected-note";
import { connector } from "../../../connectors";
import type { Connection } from "../../../connectors/contract";
import { getRun } from "../../../db/runs.repo";
import { findTenant } from "../../../db/tenants.repo";
import type { AppEnv } from "../../../http/context";
import { AppError } from "../../../http/errors";
import { getIntegration } from "../../../integrations/store";

/** The connected account, as the pages after consent and the integration page show it. */
export function accountRows(conn: Connection) {
  return html`<dt>Connected account</dt><dd id="account">${conn.accountEmail ?? "unknown"}</dd>
<dt>Organisation</dt><dd id="org">${conn.orgName ?? "unknown"}${conn.orgId ? ` (${conn.orgId})` : ""}</dd>`;
}

/** "This wasn't me": for whoever consented to a connect they did not mean (e.g. a link another organisation sent). */
export function disownForm(noteToken: string) {
  return html`<form method="post" action="/oauth/disown" id="disown">
<input type="hidden" name="connected" value="${noteToken}">
<p>Not your organisation, or not a connect you meant to make? <button type="submit">This wasn't me</button> disconnects it at once and revokes the access you granted.</p>
</form>`;
}


/**
 * What a browser that has no dashboard session sees after consent: what was connected
 * (tenant, provider, data centre, accounts server) and what happens next.
 */
export async function connectedPage(c: Context<AppEnv>, note: ConnectedNote, noteToken: string) {
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
