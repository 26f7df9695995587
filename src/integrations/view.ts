import { toJsonSchema } from "@valibot/to-json-schema";
import { PROVIDER_IDS, PROVIDERS } from "../connectors";
import type { Integration } from "./store";
import { iso } from "../lib/time";
import { IntegrationConfig } from "./config";

/** An integration as the API answers it. */
export function integrationView(i: Integration, stats: Record<string, number>) {
  return {
    id: i.id,
    provider: i.provider,
    name: i.name,
    status: i.status,
    pendingActions: i.pendingActions,
    connection: i.connection,
    config: i.config,
    stats,
    lastError: i.lastError,
    createdAt: iso(i.createdAt),
    updatedAt: iso(i.updatedAt),
  };
}

let schema: unknown;

/** `GET /v1/providers`: each provider with its defaults and the config's JSON Schema. */
export function providersView() {
  schema ??= toJsonSchema(IntegrationConfig, { errorMode: "ignore" });
  return PROVIDER_IDS.map((id) => {
    const p = PROVIDERS[id];
    return { id: p.id, name: p.name, direction: p.direction, objects: p.objects, defaultMapping: p.defaults.mapping, defaultConfig: p.defaults, configSchema: schema };
  });
}
