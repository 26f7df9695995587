import type { Db } from "../../../db/client";
import { groupsOfIntegration, valueCounts } from "../../../db/groups.repo";
import type { Integration } from "../../../integrations/store";
import type { ResolvedConfig } from "../../../lib/config";
import type { GroupPreview } from "./cards";

/**
 * The groups some rules would make and how many active directory people each would hold
 * (before the integration's scope), largest first; and whether the hub made it already.
 */
export async function previewGroups(db: Db, integration: Integration, rules: ResolvedConfig["groupRules"]): Promise<GroupPreview> {
  const made = new Set((await groupsOfIntegration(db, integration.id)).map((g) => g.name));
  const sizes = new Map<string, number>();
  for (const rule of rules) {
    for (const { value, people } of await valueCounts(db, integration.tenantId, rule.field)) {
      const name = `${rule.prefix ?? ""}${value}`;
      sizes.set(name, (sizes.get(name) ?? 0) + people);
    }
  }
  return [...sizes].map(([name, people]) => ({ name, people, exists: made.has(name) })).sort((a, b) => b.people - a.people || a.name.localeCompare(b.name));
}
