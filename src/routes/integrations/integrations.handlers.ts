import type { Context } from "hono";
import { createFactory } from "hono/factory";
import { CONNECTORS, connector, ProviderError } from "../../connectors";
import { deleteIntegration, linkStats, updateIntegration } from "../../db/integrations.repo";
import { getIntegration, insertIntegration, listIntegrations, type Integration } from "../../integrations/store";
import { defaultConfig, resolveConfig } from "../../integrations/config";
import { assertTransition, pendingActionsFor, statusFor } from "../../integrations/lifecycle";
import { authorizeUrlFor } from "../../integrations/oauth-state";
import { refreshTokenOf } from "../../integrations/tokens";
import { integrationView, providersView } from "../../integrations/view";
import type { TenantEnv } from "../../http/context";
import { AppError } from "../../http/errors";
import { requireRecentAuth } from "../../http/middleware";
import { decodeCursor, page } from "../../http/pagination";
import { validate } from "../../http/validate";
import { IntegrationParams, loadIntegration, triggerOf } from "../../http/loaders";
import { startInitialResync } from "../../runs/start";
import { forgetPushedState } from "../../db/sync.repo";
import { settings } from "../../settings";
import { contracts, CreateIntegrationBody, ListQuery, PatchIntegrationBody } from "./integrations.routes";

const factory = createFactory<TenantEnv>();

/** The needed scopes a grant does not cover (`X.ALL` covers every `X.…`; case-insensitive). */
function missingScopesOf(needed: string[], granted: string[]): string[] {
  const covers = (g: string, n: string) => g === n || (g.endsWith(".all") && n.startsWith(g.slice(0, -3)));
  return needed.filter((n) => !granted.some((g) => covers(g.toLowerCase(), n.toLowerCase())));
}


async function respond(c: Context<TenantEnv>, integration: Integration, status: 200 | 201 = 200) {
  return c.json(integrationView(integration, await linkStats(c.get("db"), integration.id)), status);
}

export const providersHandlers = factory.createHandlers(contracts.providers, (c) => c.json(providersView()));

export const createHandlers = factory.createHandlers(contracts.create, validate("json", CreateIntegrationBody), async (c) => {
  const body = c.req.valid("json");
  const def = CONNECTORS[body.provider];
  const { config, errors } = resolveConfig(def, defaultConfig(def), body.config ?? {});
  if (errors.length) throw AppError.validation(errors);
  const integration = await insertIntegration(c.get("db"), {
    tenantId: c.get("tenant").id,
    provider: def.facts.id,
    name: body.name ?? def.facts.name,
    config,
    pendingActions: pendingActionsFor(def, config, false, false),
  });
  return respond(c, integration, 201);
});

export const listHandlers = factory.createHandlers(contracts.list, validate("query", ListQuery), async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const db = c.get("db");
  const rows = await listIntegrations(db, c.get("tenant").id, decodeCursor(cursor), limit);
  const { data, nextCursor } = page(rows, limit, (r) => r.id);
  return c.json({ data: await Promise.all(data.map(async (i) => integrationView(i, await linkStats(db, i.id)))), nextCursor });
});

export const getHandlers = factory.createHandlers(contracts.get, validate("param", IntegrationParams), async (c) => respond(c, await loadIntegration(c, c.req.valid("param").id)));

export const patchHandlers = factory.createHandlers(contracts.patch, validate("param", IntegrationParams), validate("json", PatchIntegrationBody), async (c) => {
  const integration = await loadIntegration(c, c.req.valid("param").id);
  const body = c.req.valid("json");
  const def = connector(integration.provider);
  const { config, errors } = resolveConfig(def, integration.config, body.config ?? {});
  if (errors.length) throw AppError.validation(errors);
  // Scopes the new settings need that the grant lacks: say so now, rather than fail later.
  const missingScopes = integration.connection ? missingScopesOf(def.config.scopes(config), integration.connection.scopes) : [];
  const reconnect = integration.pendingActions.includes("reconnect") || missingScopes.length > 0;
  const connected = integration.connection !== null && !reconnect;
  const pendingActions = pendingActionsFor(def, config, connected, reconnect);
  const status = statusFor(integration.status, pendingActions);
  const db = c.get("db");
  const reason = missingScopes.length ? `The new settings need ${missingScopes.join(", ")}, which the connection was not granted: reconnect the integration to grant it.` : undefined;
  await updateIntegration(db, integration.tenantId, integration.id, { ...(body.name ? { name: body.name } : {}), config, pendingActions, status, ...(reason ? { lastError: reason } : {}) });
  const updated = (await getIntegration(db, integration.tenantId, integration.id))!;
  // A new mapping or object changes every record's payload: push everyone again.
  if (JSON.stringify(config.mapping) !== JSON.stringify(integration.config.mapping) || config.object !== integration.config.object) {
    await forgetPushedState(db, integration.id);
    await startInitialResync(db, c.env, updated, triggerOf(c));
  }
  return respond(c, updated);
});


export const connectHandlers = factory.createHandlers(contracts.connect, validate("param", IntegrationParams), async (c) => {
  const integration = await loadIntegration(c, c.req.valid("param").id);
  return c.json({ authorizeUrl: await authorizeUrlFor(c.get("db"), c.env, integration, "api") });
});

function transitionHandlers(transition: "activate" | "deactivate") {
  return factory.createHandlers(contracts[transition], validate("param", IntegrationParams), async (c) => {
    const integration = await loadIntegration(c, c.req.valid("param").id);
    assertTransition(integration, transition);
    const db = c.get("db");
    await updateIntegration(db, integration.tenantId, integration.id, { status: transition === "activate" ? "active" : "deactivated" });
    const updated = (await getIntegration(db, integration.tenantId, integration.id))!;
    // Whatever changed while it was off reaches the provider now, as a run the admin can watch.
    if (transition === "activate") await startInitialResync(db, c.env, updated, triggerOf(c));
    return respond(c, updated);
  });
}

export const activateHandlers = transitionHandlers("activate");
export const deactivateHandlers = transitionHandlers("deactivate");

export const deleteHandlers = factory.createHandlers(contracts.remove, requireRecentAuth, validate("param", IntegrationParams), async (c) => {
  const integration = await loadIntegration(c, c.req.valid("param").id);
  const db = c.get("db");
  const refreshToken = await refreshTokenOf(db, c.env, integration);
  if (refreshToken && integration.connection) {
    const def = connector(integration.provider);
    try {
      await def.oauth.revoke({ env: c.env, settings: settings(c.env), redirectUri: "" }, { connection: integration.connection, refreshToken });
    } catch (err) {
      // Nothing is deleted until the provider confirms: the grant must not outlive the integration.
      if (err instanceof ProviderError) {
        throw new AppError("unavailable", `${def.facts.name} did not confirm revoking the connection (${err.detail}). Nothing was deleted; try again.`, undefined, {
          "retry-after": String(Math.ceil((err.retryAfterMs ?? 30_000) / 1000)),
        });
      }
      throw err;
    }
  }
  await deleteIntegration(db, integration.tenantId, integration.id);
  return c.body(null, 204);
});
