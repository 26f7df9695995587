import type { BatchItem } from "drizzle-orm/batch";
import { ProviderError, type RemoteRecord } from "../connectors";
import type { Db } from "../db/client";
import { linksInRange, markRemoteGoneStatements, peopleByKey, rememberUnmatchedStatements } from "../db/reconcile.repo";
import { advanceRunStatement } from "../db/runs.repo";
import { runCompletedStatements } from "./start";
import type { DirectoryUserRow, LinkRow, RunRow } from "../db/schema";
import { linksByUsers, usersByIds } from "../db/sync.repo";
import { COUNT_KEYS, noCounts } from "../db/vocabulary";
import { userView } from "../directory/user";
import type { Env } from "../env";
import { connectorContext } from "../integrations/connector-context";
import type { Integration } from "../integrations/store";
import { outOfScope, payloadHash } from "../sync/mapping";
import { keyFieldOf } from "../sync/match";
import { pushGroup, type GroupOutcome } from "../sync/push";
import { targetOf } from "../sync/target";

/**
 * Remote records without a link, matched to directory people by the matching key: a
 * person in scope, not linked to another record and not unlinked by hand. An active
 * person wins a key over a disabled or deleted one; a record matched to one of those gets
 * the deletion policy (see pushGroup), so that a record whose create's answer was lost is
 * neither kept under `delete` nor lost track of. The first record (in id order) wins a
 * person; the others stay unmatched.
 */
async function matchRecords(db: Db, integration: Integration, keyField: string, records: RemoteRecord[]): Promise<Map<string, RemoteRecord>> {
  const { by, caseSensitive } = integration.config.matching;
  const keyOf = (v: unknown) => (typeof v === "string" && v !== "" ? (caseSensitive ? v : v.toLowerCase()) : null);
  const people = await peopleByKey(db, integration.tenantId, integration.config.matching, records.map((r) => keyOf(r.fields[keyField])).filter((k): k is string => k !== null));
  if (!people.length) return new Map();
  const linkOf = new Map((await linksByUsers(db, integration.id, people.map((p) => p.id))).map((l) => [l.userId, l]));
  const byKey = new Map<string, DirectoryUserRow>();
  for (const p of people) {
    const link = linkOf.get(p.id);
    if (link?.remoteId || link?.manual === "unlinked") continue;
    if (outOfScope(userView(p), integration.config.scope)) continue;
    const key = keyOf(by === "email" ? p.email : p.id);
    if (key !== null && (p.status === "active" || !byKey.has(key))) byKey.set(key, p);
  }
  const matched = new Map<string, RemoteRecord>();
  for (const r of records) {
    const key = keyOf(r.fields[keyField]);
    const person = key !== null ? byKey.get(key) : undefined;
    if (person && !matched.has(person.id)) matched.set(person.id, r);
  }
  return matched;
}

/**
 * One page of a reconciliation: one listing call of the connector (records in id order),
 * compared with the links whose remote id falls in the same range.
 * - Linked and unchanged since the last push (the hash of the mapped fields): nothing to do.
 * - Linked and different: pushed again field by field; the fields changed there are logged.
 * - Linked but not listed: deleted at the provider; created again, or the link marked `unmatched`
 *   (`onRemoteDelete`).
 * - Not linked: matched to a directory person by the matching key and linked, or kept
 *   in the unmatched list.
 * The run's counts and next page go in the same batch as the links and logs.
 */
export async function reconcilePage(db: Db, env: Env, integration: Integration, run: RunRow): Promise<GroupOutcome & { more: boolean }> {
  const target = targetOf(integration);
  if (!target) throw new ProviderError("fatal", `${integration.provider} does not push people.`);
  const { push, facts } = target;
  const ctx = connectorContext(db, env, integration);
  const config = integration.config;
  const now = Date.now();
  // Compared through the integration's own mapping: the fields it writes, and the key.
  const targets = config.mapping.map((m) => m.to);
  const keyField = keyFieldOf(config, facts);
  const select = [...new Set([...targets, ...(keyField ? [keyField] : []), ...push.nameFields(config.object)])];
  const { records, more } = await push.list(ctx, config.object, select, run.cursor);
  const last = records[records.length - 1]?.id ?? null;
  const linked = await linksInRange(db, integration.id, run.cursor, more ? last : null);
  // Groups cannot be listed (Zoho Connect): every linked person of the page is grouped again.
  const regroups = push.groups !== undefined && config.groupRules.length > 0;
  const byRemote = new Map(linked.map((l) => [l.remoteId!, l]));

  const counts = noCounts();
  const seen = new Map<string, RemoteRecord | null>();
  const unlinked: RemoteRecord[] = [];
  for (const r of records) {
    const link = byRemote.get(r.id);
    if (!link) {
      unlinked.push(r);
      continue;
    }
    byRemote.delete(r.id);
    const held = Object.fromEntries(targets.map((t) => [t, r.fields[t] ?? null]));
    if (link.status === "synced" && link.payloadHash === (await payloadHash(held))) {
      // Counted by the push when the page's people are grouped again.
      if (!regroups) counts.unchanged++;
    }
    else seen.set(link.userId, r);
  }

  // Linked records the listing did not return: deleted at the provider.
  const gone: LinkRow[] = [...byRemote.values()];
  const marks: BatchItem<"sqlite">[] = [];
  if (gone.length && config.onRemoteDelete === "mark") {
    const versionOf = new Map((await usersByIds(db, integration.tenantId, gone.map((l) => l.userId))).map((u) => [u.id, u.version]));
    for (const l of gone) {
      counts.unmatched++;
      const detail = `The ${facts.brand} record ${l.remoteId} was deleted in ${facts.brand} (onRemoteDelete is mark); link the person again or resync them to create it.`;
      marks.push(...markRemoteGoneStatements(db, integration, l, versionOf.get(l.userId) ?? null, detail, now));
    }
  } else for (const l of gone) seen.set(l.userId, null);

  const matched = keyField ? await matchRecords(db, integration, keyField, unlinked) : new Map<string, RemoteRecord>();
  for (const [userId, r] of matched) seen.set(userId, r);
  const matchedIds = new Set([...matched.values()].map((r) => r.id));
  const leftOver = unlinked.filter((r) => !matchedIds.has(r.id));
  counts.unmatched += leftOver.length;
  const urlOf = leftOver.length ? await push.recordUrls(ctx, config.object) : () => null;
  const remember = rememberUnmatchedStatements(
    db,
    integration,
    run.id,
    leftOver.map((r) => {
      const email = keyField ? r.fields[keyField] : undefined;
      return { remoteId: r.id, email: typeof email === "string" ? email : null, name: push.nameOf(r.fields), remoteUrl: urlOf(r.id) };
    }),
    !more,
  );

  const regroup = regroups ? linked.map((l) => l.userId) : [];
  const outcome = await pushGroup(db, env, integration, [...new Set([...seen.keys(), ...regroup])], {
    seen,
    removals: run.approved ? "approved" : "held",
    alongside: (pushed, finished) => {
      if (!finished) return [];
      const total = noCounts();
      for (const k of COUNT_KEYS) total[k] = counts[k] + pushed[k];
      return [...marks, ...remember, advanceRunStatement(db, run, total, { cursor: last ?? run.cursor, done: !more }), ...(more ? [] : runCompletedStatements(db, integration, run, total))];
    },
  });
  return { ...outcome, more };
}
