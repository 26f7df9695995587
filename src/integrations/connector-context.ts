import { ProviderError } from "../connectors";
import type { ConnectorContext } from "../connectors/contract";
import { logger } from "../lib/log";
import type { Db } from "../db/client";
import { saveOrgId } from "../db/integrations.repo";
import { type Integration } from "./store";
import type { Env } from "../env";
import { settings } from "../settings";
import { getAccessToken } from "./tokens";

/**
 * The context a connector is called with for one integration: its connection, the
 * settings, the shared token source, and a way to keep facts it learns (written only
 * while that connection is still the stored one).
 */
export function connectorContext(db: Db, env: Env, integration: Integration): ConnectorContext {
  if (!integration.connection) throw new ProviderError("reauth", "The integration is not connected.");
  return {
    tenantId: integration.tenantId,
    integrationId: integration.id,
    connection: integration.connection,
    env,
    settings: settings(env),
    tokens: { get: (opts) => getAccessToken(db, env, integration, opts) },
    log: logger({ tenantId: integration.tenantId, integrationId: integration.id, provider: integration.provider }),
    saveFacts: ({ orgId }) => saveOrgId(db, integration, orgId),
  };
}
