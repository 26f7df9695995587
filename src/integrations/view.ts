import { toJsonSchema } from "@valibot/to-json-schema";
import { CONNECTORS, PROVIDER_IDS, type ProviderId } from "../connectors";
import type { Integration } from "./store";
import type { ConnectorFacts } from "../connectors/contract";
import { iso } from "../lib/time";
import { configSchemaOf, defaultConfig } from "./config";
import type { pullStatus } from "./source-status";

/** An integration as the API answers it. */
export function integrationView(i: Integration, stats: Record<string, number>, pull: Awaited<ReturnType<typeof pullStatus>> = null) {
  return {
    id: i.id,
    provider: i.provider,
    name: i.name,
    status: i.status,
    pendingActions: i.pendingActions,
    connection: i.connection,
    config: i.config,
    stats,
    ...(pull ? { pull } : {}),
    lastError: i.lastError,
    createdAt: iso(i.createdAt),
    updatedAt: iso(i.updatedAt),
  };
}

let providers: { id: ProviderId }[] | undefined;

/** `GET /v1/providers`: each provider the tenant may enable, with its defaults and the JSON Schema of its config. */
export function providersView(allowed: readonly ProviderId[]) {
  providers ??= PROVIDER_IDS.map((id) => {
    const c = CONNECTORS[id];
    const defaults = defaultConfig(c);
    const facts: ConnectorFacts = c.facts;
    return { id: facts.id, name: facts.name, direction: facts.direction, objects: facts.objects, defaultMapping: defaults.mapping, defaultConfig: defaults, configSchema: toJsonSchema(configSchemaOf(c), { errorMode: "ignore" }), limitations: facts.limitations ?? [] };
  });
  return providers.filter((p) => allowed.includes(p.id));
}
