import { and, eq, gt, inArray, isNotNull, lte, ne, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { listPage, recordUrlMaker, type RemoteRecord } from "../connectors/zoho/records";
import { connectorContext } from "../integrations/connector-context";
import type { Db } from "../db/client";
import type { Integration } from "../integrations/store";
import { advanceRunStatement } from "../db/runs.repo";
import { directoryUsers, links, remoteUnmatched, syncLogs, type DirectoryUserRow, type LinkRow, type RunRow } from "../db/schema";
import { COUNT_KEYS, noCounts } from "../db/vocabulary";
import { linksByUsers, usersByIds } from "../db/sync.repo";
import { userView } from "../directory/user";
import type { Env } from "../env";
import { outOfScope, payloadHash } from "../sync/mapping";
import { pushGroup, type GroupOutcome } from "../sync/push";

/**
 * Links of the integration whose remote id is in (after, upTo]. Zoho lists records in
 * id order, and its ids within a module have the same number of digits, so the text
 * order of `remote_id` is the listing's order: a linked record in the range that the
 * listing did not return is gone.
 */
function linksInRange(db: Db, integrationId: string, after: string | null, upTo: string | null) {
  return db
    .select()
    .from(links)
    .where(
      and(
        eq(links.integrationId, integrationId),
        isNotNull(links.remoteId),
        after !== null ? gt(links.remoteId, after) : undefined,
        upTo !== null ? lte(links.remoteId, upTo) : undefined,
      ),
    );
}

/** Directory people whose matching field equals one of `keys` (by e-mail or id; other fields are not matched here). */
async function peopleByKey(db: Db, integration: Integration, keys: string[]): Promise<DirectoryUserRow[]> {
  const { by, caseSensitive } = integration.config.matching;
  const column = by === "email" ? (caseSensitive ? directoryUsers.email : directoryUsers.emailLower) : by === "id" ? directoryUsers.id : null;
  if (!column || !keys.length) return [];
  const values = [...new Set(by === "email" && !caseSensitive ? keys.map((k) => k.toLowerCase()) : keys)];
  const out: DirectoryUserRow[] = [];
  for (let i = 0; i < values.length; i += 90) {
    out.push(...(await db.select().from(directoryUsers).where(and(eq(directoryUsers.tenantId, integration.tenantId), inArray(column, values.slice(i, i + 90))))));
  }
  return out;
}

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
  const people = await peopleByKey(db, integration, records.map((r) => keyOf(r.fields[keyField])).filter((k): k is string => k !== null));
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

function nameOf(fields: Record<string, unknown>): string | null {
  const parts = [fields.First_Name, fields.Last_Name].filter((p): p is string => typeof p === "string" && p !== "");
  return parts.length ? parts.join(" ") : typeof fields.Full_Name === "string" ? fields.Full_Name : null;
}

/**
 * One page of a reconciliation: up to 2,000 Zoho records in id order (one COQL call),
 * compared with the links whose remote id falls in the same range.
 * - Linked and unchanged since the last push (the hash of the mapped fields): nothing to do.
 * - Linked and different: pushed again field by field; the fields Zoho changed are logged.
 * - Linked but not listed: deleted in Zoho; created again, or the link marked `unmatched`
 *   (`onRemoteDelete`).
 * - Not linked: matched to a directory person by the matching key and linked, or kept
 *   in the unmatched list.
 * The run's counts and next page go in the same batch as the links and logs.
 */
export async function reconcilePage(db: Db, env: Env, integration: Integration, run: RunRow): Promise<GroupOutcome & { more: boolean }> {
  const ctx = connectorContext(db, env, integration);
  const config = integration.config;
  const now = Date.now();
  const targets = config.mapping.map((m) => m.to);
  const keyField = config.mapping.find((m) => "from" in m && m.from === config.matching.by)?.to ?? "Email";
  // Names for the unmatched list, where the module has them.
  const naming = config.object === "Contacts" || config.object === "Leads" ? ["First_Name", "Last_Name"] : [];
  const select = [...new Set([...targets, keyField, ...naming])];
  const { records, more } = await listPage(ctx, config.object, select, run.cursor);
  const last = records[records.length - 1]?.id ?? null;
  const linked = await linksInRange(db, integration.id, run.cursor, more ? last : null);
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
    if (link.status === "synced" && link.payloadHash === (await payloadHash(held))) counts.unchanged++;
    else seen.set(link.userId, r);
  }

  // Linked records the listing did not return: deleted in Zoho.
  const gone: LinkRow[] = [...byRemote.values()];
  const marks: BatchItem<"sqlite">[] = [];
  if (gone.length && config.onRemoteDelete === "mark") {
    const versionOf = new Map((await usersByIds(db, integration.tenantId, gone.map((l) => l.userId))).map((u) => [u.id, u.version]));
    for (const l of gone) {
      counts.unmatched++;
      const detail = `The Zoho record ${l.remoteId} was deleted in Zoho (onRemoteDelete is mark); link the person again or resync them to create it.`;
      marks.push(
        db
          .update(links)
          .set({ remoteId: null, remoteUrl: null, payloadHash: null, status: "unmatched", lastError: detail, failureKind: null, pushedVersion: versionOf.get(l.userId) ?? null, updatedAt: now })
          .where(and(eq(links.integrationId, integration.id), eq(links.userId, l.userId), eq(links.remoteId, l.remoteId!))),
        db.insert(syncLogs).values({ tenantId: integration.tenantId, integrationId: integration.id, userId: l.userId, action: "link", status: "skipped", remoteId: l.remoteId, detail, at: now }),
      );
    }
  } else for (const l of gone) seen.set(l.userId, null);

  const matched = await matchRecords(db, integration, keyField, unlinked);
  for (const [userId, r] of matched) seen.set(userId, r);
  const matchedIds = new Set([...matched.values()].map((r) => r.id));
  const leftOver = unlinked.filter((r) => !matchedIds.has(r.id));
  counts.unmatched += leftOver.length;
  const urlOf = leftOver.length ? await recordUrlMaker(ctx, config.object) : () => null;
  const remember: BatchItem<"sqlite">[] = [];
  // 7 columns a row: 14 rows a statement.
  for (let i = 0; i < leftOver.length; i += 14) {
    const rows = leftOver.slice(i, i + 14).map((r) => {
      const email = r.fields[keyField];
      return { tenantId: integration.tenantId, integrationId: integration.id, remoteId: r.id, email: typeof email === "string" ? email : null, name: nameOf(r.fields), remoteUrl: urlOf(r.id), runId: run.id };
    });
    remember.push(
      db
        .insert(remoteUnmatched)
        .values(rows)
        .onConflictDoUpdate({
          target: [remoteUnmatched.integrationId, remoteUnmatched.remoteId],
          set: { email: sql`excluded.email`, name: sql`excluded.name`, remoteUrl: sql`excluded.remote_url`, runId: sql`excluded.run_id` },
        }),
    );
  }
  if (!more) {
    // The whole module was listed: what an earlier run found and this one did not is gone or linked.
    remember.push(db.delete(remoteUnmatched).where(and(eq(remoteUnmatched.integrationId, integration.id), ne(remoteUnmatched.runId, run.id))));
  }

  const outcome = await pushGroup(db, env, integration, [...seen.keys()], {
    seen,
    removals: run.approved ? "approved" : "held",
    alongside: (pushed, finished) => {
      if (!finished) return [];
      const total = noCounts();
      for (const k of COUNT_KEYS) total[k] = counts[k] + pushed[k];
      return [...marks, ...remember, advanceRunStatement(db, run, total, { cursor: last ?? run.cursor, done: !more })];
    },
  });
  return { ...outcome, more };
}
