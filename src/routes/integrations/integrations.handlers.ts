import { allowedProviders } from "../../integrations/allowed";
import type { Context } from "hono";
import { createFactory } from "hono/factory";
import { linkStats } from "../../db/integrations.repo";
import type { Db } from "../../db/client";
import { pullStatus } from "../../integrations/source-status";
import { listIntegrations, type Integration } from "../../integrations/store";
import { authorizeUrlFor } from "../../integrations/oauth-state";
import { integrationView, providersView } from "../../integrations/view";
import { changeIntegrationAction, createIntegrationAction, deleteIntegrationAction, networksAction, transitionAction } from "../../http/actions";
import type { TenantEnv } from "../../http/context";
import { requireRecentAuth } from "../../http/middleware";
import { decodeCursor, page } from "../../http/pagination";
import { validate } from "../../http/validate";
import { IntegrationParams, loadIntegration, triggerOf } from "../../http/loaders";
import { contracts, CreateIntegrationBody, ListQuery, PatchIntegrationBody } from "./integrations.routes";

const factory = createFactory<TenantEnv>();

async function viewOf(db: Db, integration: Integration) {
  return integrationView(integration, await linkStats(db, integration.id), await pullStatus(db, integration));
}

async function respond(c: Context<TenantEnv>, integration: Integration, status: 200 | 201 = 200) {
  return c.json(await viewOf(c.get("db"), integration), status);
}

export const providersHandlers = factory.createHandlers(contracts.providers, (c) => c.json(providersView(allowedProviders(c.get("tenant")))));

export const createHandlers = factory.createHandlers(contracts.create, validate("json", CreateIntegrationBody), async (c) => {
  const body = c.req.valid("json");
  return respond(c, await createIntegrationAction(c.get("db"), c.env, c.get("tenant"), body), 201);
});

export const listHandlers = factory.createHandlers(contracts.list, validate("query", ListQuery), async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const db = c.get("db");
  const rows = await listIntegrations(db, c.get("tenant").id, decodeCursor(cursor), limit);
  const { data, nextCursor } = page(rows, limit, (r) => r.id);
  return c.json({ data: await Promise.all(data.map((i) => viewOf(db, i))), nextCursor });
});

export const getHandlers = factory.createHandlers(contracts.get, validate("param", IntegrationParams), async (c) => respond(c, await loadIntegration(c, c.req.valid("param").id)));

export const patchHandlers = factory.createHandlers(contracts.patch, validate("param", IntegrationParams), validate("json", PatchIntegrationBody), async (c) => {
  const integration = await loadIntegration(c, c.req.valid("param").id);
  return respond(c, await changeIntegrationAction(c.get("db"), c.env, integration, c.req.valid("json"), triggerOf(c)));
});

export const connectHandlers = factory.createHandlers(contracts.connect, validate("param", IntegrationParams), async (c) => {
  const integration = await loadIntegration(c, c.req.valid("param").id);
  return c.json({ authorizeUrl: await authorizeUrlFor(c.get("db"), c.env, integration, "api") });
});

function transitionHandlers(transition: "activate" | "deactivate") {
  return factory.createHandlers(contracts[transition], validate("param", IntegrationParams), async (c) => {
    const integration = await loadIntegration(c, c.req.valid("param").id);
    return respond(c, await transitionAction(c.get("db"), c.env, c.get("tenant"), integration, transition, triggerOf(c)));
  });
}

export const activateHandlers = transitionHandlers("activate");
export const deactivateHandlers = transitionHandlers("deactivate");

export const deleteHandlers = factory.createHandlers(contracts.remove, requireRecentAuth, validate("param", IntegrationParams), async (c) => {
  const integration = await loadIntegration(c, c.req.valid("param").id);
  await deleteIntegrationAction(c.get("db"), c.env, integration);
  return c.body(null, 204);
});

export const networksHandlers = factory.createHandlers(contracts.networks, validate("param", IntegrationParams), async (c) => {
  const integration = await loadIntegration(c, c.req.valid("param").id);
  return c.json({ data: await networksAction(c.get("db"), c.env, integration) });
});
