import * as v from "valibot";
import type { MappingEntry } from "../../lib/config";
import type { Connector } from "../contract";
import { zohoSettingsProblems } from "../zoho/datacenters";
import { zohoOAuth } from "../zoho/oauth";
import { connectNetworks, GROUP_ADD_BATCH, INVITE_BATCH, zohoConnectMembers } from "./members";

/** Zoho Connect's member fields the hub manages: the e-mail it invites and matches by. */
const MAPPING: MappingEntry[] = [{ to: "emailId", from: "email", required: true }];

/**
 * Zoho Connect: a target. People are invited to one network (`invited` until they join),
 * put in the groups of their department and designation (`groupRules`), and removed from
 * the network when they leave (`onDelete`).
 */
export const zohoConnect = {
  facts: {
    id: "zoho-connect",
    name: "Zoho Connect",
    brand: "Zoho Connect",
    direction: "push",
    objects: ["members"],
    mapping: MAPPING,
    // One orgMembers call answers every member; an invitation takes 1,000 e-mails.
    limits: { writeBatch: INVITE_BATCH, lookupBatch: 5000, listPage: 5000 },
    limitations: [
      "Zoho Connect documents no call that updates a member's profile: names and profile fields reach Connect only through its own User Sync CSV. The hub manages membership and groups.",
      "Zoho Connect documents no call that disables a member: onDelete deactivate and delete both remove the person from the network.",
      "Zoho Connect documents no call that lists a group's members: reconciliation adds every person to their groups again rather than comparing.",
      `Invitations go out ${INVITE_BATCH} e-mails a call; group additions ${GROUP_ADD_BATCH} members a call.`,
    ],
  },
  config: {
    entries: {
      /** The network (scopeID) to manage. */
      networkId: v.optional(v.pipe(v.string(), v.regex(/^\d{1,30}$/, "Expected a Zoho Connect network id."))),
      /** An admin looked at the group rules (the defaults, or their own) and saved them. */
      groupRulesReviewed: v.optional(v.boolean()),
    },
    defaults: { object: "members", mapping: MAPPING, groupRules: [{ field: "department", create: true }, { field: "designation", create: true }], groupRulesReviewed: false },
    scopes: () => ["zohopulse.networklist.READ", "zohopulse.networkAdmin.CREATE", "zohopulse.networkAdmin.DELETE", "zohopulse.grouplist.CREATE", "zohopulse.grouplist.DELETE", "zohopulse.userDetail.READ"],
    missing: (config) => [...(config.networkId ? [] : ["choose-network"]), ...(config.groupRulesReviewed ? [] : ["review-group-rules"])],
    problems: () => [],
  },
  oauth: zohoOAuth,
  settingsProblems: zohoSettingsProblems,
  push: zohoConnectMembers,
  networks: connectNetworks,
} satisfies Connector;
