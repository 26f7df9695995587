import { ProviderError } from "../connectors";
import type { ConnectorContext, GroupConnector } from "../connectors/contract";
import type { Db } from "../db/client";
import { adoptGroup, claimGroup, forgetMembershipsStatements, groupsByName, groupsOfPeople, membershipStatements, setGroupId } from "../db/groups.repo";
import type { DirectoryUserRow } from "../db/schema";
import { userView } from "../directory/user";
import type { ResolvedConfig } from "../lib/config";
import type { Outcomes } from "./outcomes";

type GroupRule = ResolvedConfig["groupRules"][number];

/** A create claimed this long ago and never finished is taken over (its worker died). */
const STALE_CLAIM_MS = 5 * 60_000;

/** The value of a rule's field for a person: a profile field, or `attributes.<name>`. */
function valueOf(view: ReturnType<typeof userView>, field: string): string | null {
  const value = field.startsWith("attributes.") ? view.attributes[field.slice("attributes.".length)] : (view as Record<string, unknown>)[field];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

/** The groups a person belongs in by the rules: the group named by each rule's value (with its prefix). */
export function groupsFor(user: DirectoryUserRow, rules: readonly GroupRule[]): { name: string; rule: GroupRule }[] {
  const view = userView(user);
  const out: { name: string; rule: GroupRule }[] = [];
  for (const rule of rules) {
    const value = valueOf(view, rule.field);
    if (value !== null) out.push({ name: `${rule.prefix ?? ""}${value}`, rule });
  }
  return out;
}

/**
 * Makes each pushed person's groups follow the rules: added to the group of each value
 * (created once, if the rule allows, and remembered with its id), removed from groups
 * whose value they no longer have. Additions go `addBatch` members a call; every action
 * is logged `group.add` / `group.remove`. `reassert` (reconciliation) adds every member
 * again, since the provider documents no way to list a group's members: memberships lost
 * there are repaired. Only people linked to a record and active are grouped; the groups
 * of people removed from the provider are forgotten with them.
 */
export async function syncGroups(db: Db, ctx: ConnectorContext, groups: GroupConnector, config: ResolvedConfig, users: DirectoryUserRow[], out: Outcomes, opts: { reassert: boolean }): Promise<void> {
  const integration = out.integration;
  const now = Date.now();
  const removed = new Set(out.removed);
  const [forget, ...more] = forgetMembershipsStatements(db, integration.id, [...removed]);
  if (forget) await db.batch([forget, ...more]);
  const rules = config.groupRules;
  if (!rules.length) return;
  const decided = new Map(out.links.map((l) => [l.userId, l]));
  const people = users
    .filter((u) => u.status === "active" && !removed.has(u.id))
    .map((u) => ({ user: u, link: decided.get(u.id) ?? out.current(u.id) }))
    .filter((p): p is { user: DirectoryUserRow; link: NonNullable<typeof p.link> } => p.link?.status === "synced" && p.link.remoteId !== null);
  if (!people.length) return;
  const held = await groupsOfPeople(db, integration.id, people.map((p) => p.user.id));

  const adds = new Map<string, { userId: string; memberId: string; fresh: boolean }[]>();
  const removes: { userId: string; memberId: string; name: string }[] = [];
  const ruleOf = new Map<string, GroupRule>();
  for (const { user, link } of people) {
    const wanted = groupsFor(user, rules);
    const current = held.get(user.id) ?? new Set<string>();
    for (const { name, rule } of wanted) {
      ruleOf.set(name, rule);
      const fresh = !current.has(name);
      if (fresh || opts.reassert) adds.set(name, [...(adds.get(name) ?? []), { userId: user.id, memberId: link.remoteId!, fresh }]);
    }
    const names = new Set(wanted.map((w) => w.name));
    for (const name of current) if (!names.has(name)) removes.push({ userId: user.id, memberId: link.remoteId!, name });
  }

  const ids = await groupIds(db, ctx, groups, integration, [...adds.keys(), ...removes.map((r) => r.name)], ruleOf, now, out);
  const added: { userId: string; name: string }[] = [];
  for (const [name, members] of adds) {
    const groupId = ids.get(name);
    if (!groupId) {
      for (const m of members.filter((x) => x.fresh)) out.log(m.userId, "group.add", "failed", `group ${name} does not exist in ${ctx.connection.orgName ?? "the network"} and its rule does not create groups`, m.memberId);
      continue;
    }
    for (let i = 0; i < members.length; i += groups.addBatch) {
      const part = members.slice(i, i + groups.addBatch);
      const { failed } = await groups.add(ctx, groupId, part.map((m) => m.memberId));
      const refused = new Set(failed);
      for (const m of part) {
        if (refused.has(m.memberId)) out.log(m.userId, "group.add", "failed", `${name}: the provider refused member ${m.memberId}`, m.memberId);
        else {
          added.push({ userId: m.userId, name });
          if (m.fresh) out.log(m.userId, "group.add", "ok", name, m.memberId);
        }
      }
    }
  }
  const left: { userId: string; name: string }[] = [];
  for (const r of removes) {
    const groupId = ids.get(r.name);
    if (groupId) await groups.remove(ctx, groupId, r.memberId);
    left.push({ userId: r.userId, name: r.name });
    out.log(r.userId, "group.remove", "ok", r.name, r.memberId);
  }
  const [first, ...rest] = membershipStatements(db, integration, added, left, now);
  if (first) await db.batch([first, ...rest]);
}

/**
 * The provider's ids of the groups named, creating each missing one once (a claim in D1
 * first, so that two pushes at the same time do not both create it). A group another push
 * is creating right now sends this push back to the queue for a few seconds.
 */
async function groupIds(
  db: Db,
  ctx: ConnectorContext,
  groups: GroupConnector,
  integration: { tenantId: string; id: string },
  names: string[],
  ruleOf: Map<string, GroupRule>,
  now: number,
  out: Outcomes,
): Promise<Map<string, string>> {
  const unique = [...new Set(names)];
  const known = await groupsByName(db, integration.id, unique);
  const ids = new Map<string, string>();
  // The provider's own groups, read once and only when a name is not known yet: a group of
  // the same name (made by hand, or by a create whose answer was lost) is used, not made again.
  let theirs: Map<string, string> | null = null;
  for (const name of unique) {
    const knownId = known.get(name);
    if (knownId) {
      ids.set(name, knownId);
      continue;
    }
    if (!theirs) {
      theirs = new Map();
      // Two groups of one name in the provider: the first it lists is used.
      for (const g of await groups.list(ctx)) if (!theirs.has(g.name.trim().toLowerCase())) theirs.set(g.name.trim().toLowerCase(), g.id);
    }
    const existing = theirs.get(name.trim().toLowerCase());
    if (existing) {
      await adoptGroup(db, { tenantId: integration.tenantId, integrationId: integration.id, name }, existing, now);
      ids.set(name, existing);
      out.log(null, "group.add", "ok", `using the existing group ${name}`, existing);
      continue;
    }
    const rule = ruleOf.get(name);
    if (!rule || rule.create === false) continue;
    if (!(await claimGroup(db, { tenantId: integration.tenantId, integrationId: integration.id, name }, now, STALE_CLAIM_MS))) {
      throw new ProviderError("transient", `Group ${name} is being created by another push; trying again shortly.`, 5_000);
    }
    const remoteId = await groups.create(ctx, name);
    await setGroupId(db, integration.id, name, remoteId);
    ids.set(name, remoteId);
    out.log(null, "group.add", "ok", `created group ${name}`, remoteId);
  }
  return ids;
}
