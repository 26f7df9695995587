import type { Connector } from "../contract";
import { zohoSettingsProblems } from "../zoho/datacenters";
import { zohoOAuth } from "../zoho/oauth";
import { zohoConnectConfig, zohoConnectNetworks } from "./config";
import { zohoConnectFacts } from "./facts";
import { zohoConnectPush } from "./push";

/**
 * Zoho Connect: a target. People are invited to one network (`invited` until they join),
 * put in the groups of their department and designation (`groupRules`), and removed from
 * the network when they leave (`onDelete`).
 */
export const zohoConnect = {
  facts: zohoConnectFacts,
  config: zohoConnectConfig,
  oauth: zohoOAuth,
  settingsProblems: zohoSettingsProblems,
  push: zohoConnectPush,
  networks: zohoConnectNetworks,
} satisfies Connector;
