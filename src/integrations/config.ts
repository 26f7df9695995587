import * as v from "valibot";
import { CONNECTORS, PROVIDER_IDS, type Connector } from "../connectors";
import { checkConfig, configSchema, ENGINE_DEFAULTS, mergeConfig, type ProviderConfig, type ResolvedConfig } from "../lib/config";
import type { FieldError } from "../lib/errors";
import type { AllowedHost } from "../lib/outbound";
import { fieldErrors } from "../lib/errors";

/** A provider's full default config: the engine's defaults with the provider's on top. */
export function defaultConfig(c: Connector): ProviderConfig {
  return { ...ENGINE_DEFAULTS, ...c.config.defaults };
}

const schemas = new Map<Connector, ReturnType<typeof configSchema>>();

/** The config a provider takes: the engine's keys and its connector's own. */
export function configSchemaOf(c: Connector) {
  let schema = schemas.get(c);
  if (!schema) schemas.set(c, (schema = configSchema(c.config.entries)));
  return schema;
}

/**
 * The config keys of every provider, for request bodies whose provider is known only
 * later: the handler checks them against the integration's own provider.
 */
export const AnyProviderConfig = configSchema(Object.assign({}, ...PROVIDER_IDS.map((id) => CONNECTORS[id].config.entries)));

/** A config change checked for one provider: its keys, then what valibot cannot check, then the provider's own limits. */
export function resolveConfig(c: Connector, base: ResolvedConfig, patch: Readonly<Record<string, unknown>>, allow: readonly AllowedHost[]): { config: ProviderConfig; errors: FieldError[] } {
  const parsed = v.safeParse(configSchemaOf(c), patch);
  if (!parsed.success) return { config: base, errors: fieldErrors(parsed.issues, "config") };
  const config: ProviderConfig = mergeConfig(base, parsed.output);
  return { config, errors: [...checkConfig(config, c.facts.objects, allow), ...c.config.problems(config)] };
}
