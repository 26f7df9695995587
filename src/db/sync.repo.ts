import { and, eq, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "./client";
import { directoryUsers, links, syncLogs, type DirectoryUserRow, type LinkRow } from "./schema";

type LogRow = typeof syncLogs.$inferInsert;

/** Statements with at most `perStatement` rows each (D1: 100 bound parameters a statement). */
function chunks<T>(rows: T[], perStatement: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += perStatement) out.push(rows.slice(i, i + perStatement));
  return out;
}

/** Directory users of a tenant by id. */
export async function usersByIds(db: Db, tenantId: string, ids: string[]): Promise<DirectoryUserRow[]> {
  const out: DirectoryUserRow[] = [];
  for (const part of chunks(ids, 90)) {
    out.push(...(await db.select().from(directoryUsers).where(and(eq(directoryUsers.tenantId, tenantId), inArray(directoryUsers.id, part)))));
  }
  return out;
}

/** Links of an integration for some users. */
export async function linksByUsers(db: Db, integrationId: string, userIds: string[]): Promise<LinkRow[]> {
  const out: LinkRow[] = [];
  for (const part of chunks(userIds, 90)) {
    out.push(...(await db.select().from(links).where(and(eq(links.integrationId, integrationId), inArray(links.userId, part)))));
  }
  return out;
}

/**
 * Forgets what was last pushed for every link of an integration (payload hash and
 * version), so that the next resync pushes everyone again: after the mapping or the
 * object changed, an unchanged person's record still needs the new fields.
 */
export async function forgetPushedState(db: Db, integrationId: string): Promise<void> {
  await db.update(links).set({ payloadHash: null, pushedVersion: null }).where(eq(links.integrationId, integrationId));
}

/** The statement that makes the next push of these people write even if their payload looks unchanged. */
export function forgetHashesStatement(db: Db, integrationId: string, userIds: string[]) {
  return db.update(links).set({ payloadHash: null }).where(and(eq(links.integrationId, integrationId), inArray(links.userId, userIds)));
}

/** Who holds each of these remote records in an integration: remote id → user id. */
export async function holdersOfRecords(db: Db, integrationId: string, remoteIds: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const part of chunks([...new Set(remoteIds)], 90)) {
    const rows = await db.select({ remoteId: links.remoteId, userId: links.userId }).from(links).where(and(eq(links.integrationId, integrationId), inArray(links.remoteId, part)));
    for (const r of rows) if (r.remoteId) out.set(r.remoteId, r.userId);
  }
  return out;
}

/** Writes link rows (insert or replace by integration and user), log lines and `extra` statements, in one batch. */
export async function saveOutcomes(
  db: Db,
  linkRows: LinkRow[],
  logRows: LogRow[],
  removedLinks: { integrationId: string; userIds: string[] } | null,
  extra: BatchItem<"sqlite">[] = [],
): Promise<void> {
  const statements: BatchItem<"sqlite">[] = [];
  // 14 columns a link row: 7 rows a statement.
  for (const part of chunks(linkRows, 7)) {
    statements.push(
      db
        .insert(links)
        .values(part)
        .onConflictDoUpdate({
          target: [links.integrationId, links.userId],
          set: {
            remoteId: sql`excluded.remote_id`,
            remoteUrl: sql`excluded.remote_url`,
            status: sql`excluded.status`,
            payloadHash: sql`excluded.payload_hash`,
            pushedVersion: sql`excluded.pushed_version`,
            lastError: sql`excluded.last_error`,
            failureKind: sql`excluded.failure_kind`,
            lastSyncedAt: sql`excluded.last_synced_at`,
            manual: sql`excluded.manual`,
            updatedAt: sql`excluded.updated_at`,
          },
          // No older push overwrites a newer one's link (concurrent jobs of one person).
          setWhere: sql`excluded.pushed_version is null or ${links.pushedVersion} is null or excluded.pushed_version >= ${links.pushedVersion}`,
        }),
    );
  }
  // 8 columns a log row: 12 rows a statement.
  for (const part of chunks(logRows, 12)) statements.push(db.insert(syncLogs).values(part));
  if (removedLinks?.userIds.length) {
    for (const part of chunks(removedLinks.userIds, 90)) {
      statements.push(db.delete(links).where(and(eq(links.integrationId, removedLinks.integrationId), inArray(links.userId, part))));
    }
  }
  statements.push(...extra);
  if (statements.length) await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}
