import * as v from "valibot";
import { ProviderError } from "../errors";
import type { Choice, ConnectorConfig, ConnectorContext } from "../contract";
import { zohoApi, zohoProductHost } from "../zoho/client";
import { zohoConnectFacts } from "./facts";

/** A Connect integration's config: the network it manages, and whether an admin reviewed the group rules. */
export const zohoConnectConfig = {
  entries: {
    /** The network (scopeID) to manage. */
    networkId: v.optional(v.pipe(v.string(), v.regex(/^\d{1,30}$/, "Expected a Zoho Connect network id."))),
    /** An admin looked at the group rules (the defaults, or their own) and saved them. */
    groupRulesReviewed: v.optional(v.boolean()),
  },
  defaults: { object: "members", mapping: zohoConnectFacts.mapping, groupRules: [{ field: "department", create: true }, { field: "designation", create: true }], groupRulesReviewed: false },
  scopes: () => ["zohopulse.networklist.READ", "zohopulse.networkAdmin.CREATE", "zohopulse.networkAdmin.DELETE", "zohopulse.grouplist.CREATE", "zohopulse.grouplist.DELETE", "zohopulse.userDetail.READ"],
  missing: (config) => [...(config.networkId ? [] : ["choose-network"]), ...(config.groupRulesReviewed ? [] : ["review-group-rules"])],
  problems: () => [],
} satisfies ConnectorConfig;

/** The account's networks (allScopes). */
export async function zohoConnectNetworks(ctx: ConnectorContext): Promise<Choice[]> {
  const { status, body } = await zohoApi(ctx, "GET", "/pulse/api/allScopes", undefined, zohoProductHost(ctx, "connect"));
  if (status >= 400) throw new ProviderError("request", `Zoho Connect refused allScopes (HTTP ${status}).`);
  const scopes = (body as { allScopes?: { scopes?: { id: string | number; name: string; isDefault?: boolean }[] } }).allScopes?.scopes ?? [];
  return scopes.map((s) => ({ id: String(s.id), name: s.name, isDefault: s.isDefault === true }));
}
