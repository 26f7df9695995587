import type { Connector } from "../contract";
import { zohoSettingsProblems } from "../zoho/datacenters";
import { zohoOAuth } from "../zoho/oauth";
import { zohoPeopleConfig } from "./config";
import { zohoPeopleFacts } from "./facts";
import { zohoPeoplePull } from "./pull";

/** Zoho People: a source. Employees are pulled on a schedule into the directory. */
export const zohoPeople = {
  facts: zohoPeopleFacts,
  config: zohoPeopleConfig,
  oauth: zohoOAuth,
  settingsProblems: zohoSettingsProblems,
  pull: zohoPeoplePull,
} satisfies Connector;
