import { and, asc, count, eq, gt, inArray, isNotNull, lt, or, isNull, sql } from "drizzle-orm";
import type { Db } from "./client";
import { directoryUsers, integrations, links, type DirectoryUserRow } from "./schema";

/** Directory users of a tenant whose e-mail is exactly one of `emails` (the index is on the lower-cased e-mail). */
export async function usersByExactEmails(db: Db, tenantId: string, emails: string[]): Promise<Map<string, DirectoryUserRow>> {
  const out = new Map<string, DirectoryUserRow>();
  const wanted = new Set(emails);
  const lower = [...new Set(emails.map((e) => e.toLowerCase()))];
  for (let i = 0; i < lower.length; i += 90) {
    const rows = await db
      .select()
      .from(directoryUsers)
      .where(and(eq(directoryUsers.tenantId, tenantId), inArray(directoryUsers.emailLower, lower.slice(i, i + 90))));
    for (const r of rows) if (wanted.has(r.email)) out.set(r.email, r);
  }
  return out;
}

/** How many active people a source has linked, and how many of them its full pull has not seen since `before`. */
export async function unseenCount(db: Db, integration: { id: string }, before: number): Promise<{ linked: number; unseen: number }> {
  const [row] = await db
    .select({ linked: count(), unseen: sql<number>`coalesce(sum(${links.lastSyncedAt} is null or ${links.lastSyncedAt} < ${before}), 0)` })
    .from(links)
    .innerJoin(directoryUsers, and(eq(directoryUsers.tenantId, links.tenantId), eq(directoryUsers.id, links.userId)))
    .where(and(eq(links.integrationId, integration.id), isNotNull(links.remoteId), eq(directoryUsers.status, "active")));
  return { linked: row?.linked ?? 0, unseen: Number(row?.unseen ?? 0) };
}

/**
 * People a full pull did not see (their source link not touched since `before`) and
 * still active in the directory, after `after` in id order, at most `limit`.
 */
export async function unseenPeople(db: Db, integration: { tenantId: string; id: string }, before: number, after: string, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: links.userId })
    .from(links)
    .innerJoin(directoryUsers, and(eq(directoryUsers.tenantId, links.tenantId), eq(directoryUsers.id, links.userId)))
    .where(
      and(
        eq(links.integrationId, integration.id),
        isNotNull(links.remoteId),
        or(isNull(links.lastSyncedAt), lt(links.lastSyncedAt, before)),
        eq(directoryUsers.status, "active"),
        gt(links.userId, after),
      ),
    )
    .orderBy(asc(links.userId))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Where the next incremental pull starts; never moved back. */
export function pullCursorStatement(db: Db, integrationId: string, cursor: number) {
  return db
    .update(integrations)
    .set({ pullCursor: sql`max(coalesce(${integrations.pullCursor}, 0), ${cursor})` })
    .where(eq(integrations.id, integrationId));
}
