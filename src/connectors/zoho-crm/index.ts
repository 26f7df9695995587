import type { Connector } from "../contract";
import { zohoSettingsProblems } from "../zoho/datacenters";
import { zohoCrmFacts } from "./facts";
import { zohoCrmRecords } from "./objects";
import { zohoCrmOAuth, zohoCrmScopes } from "./oauth";

/** Zoho CRM: a target; directory people become Contacts (or Leads). */
export const zohoCrm = {
  facts: zohoCrmFacts,
  config: {
    entries: {},
    defaults: { object: "Contacts", mapping: zohoCrmFacts.mapping },
    scopes: zohoCrmScopes,
    missing: () => [],
    problems: (config) =>
      config.onDelete === "deactivate" ? [{ path: "config.onDelete", message: "Zoho CRM records have no inactive state: use ignore or delete." }] : [],
  },
  oauth: zohoCrmOAuth,
  settingsProblems: zohoSettingsProblems,
  push: zohoCrmRecords,
} satisfies Connector;
