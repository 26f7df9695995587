import type { ProviderConfig } from "../../lib/config";
import type { ConnectorConfig } from "../contract";
import { zohoCrmFacts } from "./facts";

/** The scopes a CRM integration needs: its module, COQL, the org (record URLs) and the fields. */
export function zohoCrmScopes(config: ProviderConfig): string[] {
  return [`ZohoCRM.modules.${config.object.toLowerCase()}.ALL`, "ZohoCRM.coql.READ", "ZohoCRM.org.READ", "ZohoCRM.settings.fields.READ"];
}

/** A CRM integration's config: no keys of its own; Contacts by default; no inactive state to deactivate into. */
export const zohoCrmConfig = {
  entries: {},
  defaults: { object: "Contacts", mapping: zohoCrmFacts.mapping },
  scopes: zohoCrmScopes,
  missing: () => [],
  problems: (config) =>
    config.onDelete === "deactivate" ? [{ path: "config.onDelete", message: "Zoho CRM records have no inactive state: use ignore or delete." }] : [],
} satisfies ConnectorConfig;
