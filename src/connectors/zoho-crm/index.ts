import type { Connector } from "../contract";
import { zohoSettingsProblems } from "../zoho/datacenters";
import { zohoCrmConfig } from "./config";
import { zohoCrmFacts } from "./facts";
import { zohoCrmOAuth } from "./oauth";
import { zohoCrmPush } from "./push";

/** Zoho CRM: a target; directory people become Contacts (or Leads). */
export const zohoCrm = {
  facts: zohoCrmFacts,
  config: zohoCrmConfig,
  oauth: zohoCrmOAuth,
  settingsProblems: zohoSettingsProblems,
  push: zohoCrmPush,
} satisfies Connector;
