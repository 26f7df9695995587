import { and, eq, gt, inArray, isNotNull, lte, ne, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "./client";
import { directoryUsers, links, remoteUnmatched, syncLogs, type DirectoryUserRow, type LinkRow } from "./schema";

type Scope = { tenantId: string; id: string };

/**
 * Links of the integration whose remote id is in (after, upTo]. A connector lists records
 * in the text order of their ids, which is the order of `remote_id` here: a linked record
 * in the range that the listing did not return is gone.
 */
export function linksInRange(db: Db, integrationId: string, after: string | null, upTo: string | null): Promise<LinkRow[]> {
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
export async function peopleByKey(db: Db, tenantId: string, matching: { by: string; caseSensitive: boolean }, keys: string[]): Promise<DirectoryUserRow[]> {
  const { by, caseSensitive } = matching;
  const column = by === "email" ? (caseSensitive ? directoryUsers.email : directoryUsers.emailLower) : by === "id" ? directoryUsers.id : null;
  if (!column || !keys.length) return [];
  const values = [...new Set(by === "email" && !caseSensitive ? keys.map((k) => k.toLowerCase()) : keys)];
  const out: DirectoryUserRow[] = [];
  for (let i = 0; i < values.length; i += 90) {
    out.push(...(await db.select().from(directoryUsers).where(and(eq(directoryUsers.tenantId, tenantId), inArray(column, values.slice(i, i + 90))))));
  }
  return out;
}

/** The linked record is gone and `onRemoteDelete` is mark: the link becomes `unmatched`, with a log line. */
export function markRemoteGoneStatements(db: Db, integration: Scope, link: LinkRow, version: number | null, detail: string, now: number): BatchItem<"sqlite">[] {
  return [
    db
      .update(links)
      .set({ remoteId: null, remoteUrl: null, payloadHash: null, status: "unmatched", lastError: detail, failureKind: null, pushedVersion: version, updatedAt: now })
      .where(and(eq(links.integrationId, integration.id), eq(links.userId, link.userId), eq(links.remoteId, link.remoteId!))),
    db.insert(syncLogs).values({ tenantId: integration.tenantId, integrationId: integration.id, userId: link.userId, action: "link", status: "skipped", remoteId: link.remoteId, detail, at: now }),
  ];
}

/** A remote record no person matched, for the unmatched list. */
export interface UnmatchedRecord {
  remoteId: string;
  email: string | null;
  name: string | null;
  remoteUrl: string | null;
}

/**
 * Keeps the records a reconciliation run found unmatched; with `complete` (the whole
 * object was listed), what an earlier run found and this one did not is forgotten.
 */
export function rememberUnmatchedStatements(db: Db, integration: Scope, runId: string, records: UnmatchedRecord[], complete: boolean): BatchItem<"sqlite">[] {
  const out: BatchItem<"sqlite">[] = [];
  // 7 columns a row: 14 rows a statement.
  for (let i = 0; i < records.length; i += 14) {
    const rows = records.slice(i, i + 14).map((r) => ({ tenantId: integration.tenantId, integrationId: integration.id, runId, ...r }));
    out.push(
      db
        .insert(remoteUnmatched)
        .values(rows)
        .onConflictDoUpdate({
          target: [remoteUnmatched.integrationId, remoteUnmatched.remoteId],
          set: { email: sql`excluded.email`, name: sql`excluded.name`, remoteUrl: sql`excluded.remote_url`, runId: sql`excluded.run_id` },
        }),
    );
  }
  if (complete) out.push(db.delete(remoteUnmatched).where(and(eq(remoteUnmatched.integrationId, integration.id), ne(remoteUnmatched.runId, runId))));
  return out;
}
