import * as v from "valibot";
import type { MappingEntry } from "../../lib/config";
import type { Connector } from "../contract";
import { zohoSettingsProblems } from "../zoho/datacenters";
import { zohoOAuth } from "../zoho/oauth";

/** Zoho Connect's member fields the hub manages; profile fields reach Connect through its CSV sync. */
const MAPPING: MappingEntry[] = [{ to: "emailId", from: "email", required: true }];

/**
 * Zoho Connect: a target (members and groups of one network). Declared so that an
 * integration can be created, connected and configured; its push is not written yet.
 */
export const zohoConnect = {
  facts: {
    id: "zoho-connect",
    name: "Zoho Connect",
    brand: "Zoho Connect",
    direction: "push",
    objects: ["members"],
    mapping: MAPPING,
    // inviteUsersToNetwork takes up to 1,000 e-mails; addUsersToGroup up to 100 members.
    limits: { writeBatch: 100, lookupBatch: 1, listPage: 100 },
  },
  config: {
    entries: {
      /** The network (scopeID) to manage. */
      networkId: v.optional(v.pipe(v.string(), v.regex(/^\d{1,30}$/, "Expected a Zoho Connect network id."))),
    },
    defaults: { object: "members", mapping: MAPPING, groupRules: [{ field: "department" }, { field: "designation" }] },
    scopes: () => ["zohopulse.networklist.READ", "zohopulse.networkAdmin.CREATE", "zohopulse.networkAdmin.DELETE", "zohopulse.grouplist.CREATE", "zohopulse.grouplist.DELETE"],
    missing: (config) => (config.networkId ? null : "configure"),
    problems: () => [],
  },
  oauth: zohoOAuth,
  settingsProblems: zohoSettingsProblems,
} satisfies Connector;
