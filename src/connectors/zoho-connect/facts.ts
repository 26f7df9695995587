import type { MappingEntry } from "../../lib/config";
import type { ConnectorFacts } from "../contract";
import { GROUP_ADD_BATCH, INVITE_BATCH } from "./client";

/** Zoho Connect's member fields the hub manages: the e-mail it invites and matches by. */
const MAPPING: MappingEntry[] = [{ to: "emailId", from: "email", required: true }];

export const zohoConnectFacts = {
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
} satisfies ConnectorFacts;
