import { clock } from "../lib/clock";
import { ProviderError } from "../connectors";
import type { ConnectorContext } from "../connectors/contract";
import { logger } from "../lib/log";
import type { Db } from "../db/client";
import { saveOrgId } from "../db/integrations.repo";
import { callsToday, dayStart, takeCall } from "../db/calls.repo";
import { connector } from "../connectors";
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
    config: integration.config,
    env,
    settings: settings(env),
    tokens: { get: (opts) => getAccessToken(db, env, integration, opts) },
    log: logger({ tenantId: integration.tenantId, integrationId: integration.id, provider: integration.provider }),
    saveFacts: ({ orgId }) => saveOrgId(db, integration, orgId),
    spendCall: () => spendCall(db, integration),
  };
}

/** An integration's share of its provider's limits: its config's `throttle`, else the provider's documented ceiling. */
export function callLimits(integration: Integration): { requestsPerMinute: number | null; callsPerDay: number | null } {
  const own = (integration.config as Readonly<Record<string, unknown>>).throttle as { requestsPerMinute?: number; callsPerDay?: number | null } | undefined;
  return {
    requestsPerMinute: own?.requestsPerMinute ?? connector(integration.provider).facts.limits.requestsPerMinute ?? null,
    callsPerDay: own?.callsPerDay ?? null,
  };
}

/**
 * Counts a call against the integration's limits, or throws `retryAfter` with the wait:
 * till a call of the last minute leaves the window, or till the next UTC day when the
 * daily budget is spent.
 */
async function spendCall(db: Db, integration: Integration): Promise<void> {
  const { requestsPerMinute, callsPerDay } = callLimits(integration);
  const now = clock.now();
  if (callsPerDay !== null && (await callsToday(db, integration.id, now)) >= callsPerDay) {
    throw new ProviderError("retryAfter", `The day's budget of ${callsPerDay} calls is spent; the pull goes on after midnight UTC.`, dayStart(now) + 86_400_000 - now);
  }
  if (requestsPerMinute === null) return;
  const wait = await takeCall(db, integration.id, requestsPerMinute, now);
  if (wait) throw new ProviderError("retryAfter", `${requestsPerMinute} calls were made in the last minute, the integration's throttle.`, wait);
}
