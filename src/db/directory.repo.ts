import { and, asc, eq, gt, inArray, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "./client";
import { directoryUsers, integrations, links, type DirectoryUserRow } from "./schema";

/** One directory user of a tenant, or null (another tenant's id is simply not found). */
export async function getUser(db: Db, tenantId: string, id: string): Promise<DirectoryUserRow | null> {
  const rows = await db
    .select()
    .from(directoryUsers)
    .where(and(eq(directoryUsers.tenantId, tenantId), eq(directoryUsers.id, id)))
    .limit(1);
  return rows[0] ?? null;
}

/** A page of users ordered by id; `q` matches e-mail or name, case-insensitively. */
export async function listUsers(
  db: Db,
  tenantId: string,
  opts: { q?: string; status?: DirectoryUserRow["status"]; after: string | null; limit: number },
): Promise<DirectoryUserRow[]> {
  const conditions: SQL[] = [eq(directoryUsers.tenantId, tenantId)];
  if (opts.after !== null) conditions.push(gt(directoryUsers.id, opts.after));
  if (opts.status) conditions.push(eq(directoryUsers.status, opts.status));
  if (opts.q) {
    // instr(), not LIKE: D1 refuses LIKE patterns over 50 bytes, and instr needs no escaping.
    // The stored lowercase e-mail was lowered by JavaScript, names are lowered by SQLite's
    // lower() (ASCII only): each is compared with the query lowered the same way.
    const unicodeLower = opts.q.toLowerCase();
    const asciiLower = opts.q.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
    const name = sql`lower(coalesce(${directoryUsers.firstName}, '') || ' ' || coalesce(${directoryUsers.lastName}, ''))`;
    conditions.push(
      or(
        sql`instr(${directoryUsers.emailLower}, ${unicodeLower}) > 0`,
        sql`instr(${name}, ${asciiLower}) > 0`,
      )!,
    );
  }
  return db
    .select()
    .from(directoryUsers)
    .where(and(...conditions))
    .orderBy(asc(directoryUsers.id))
    .limit(opts.limit + 1);
}

/** The links of one user across the tenant's integrations, with each integration's provider. */
export async function linksOfUser(db: Db, tenantId: string, userId: string) {
  return linksOfUsers(db, tenantId, [userId]);
}

/** The links of several users (at most 90) across the tenant's integrations, with each integration's provider. */
export async function linksOfUsers(db: Db, tenantId: string, userIds: string[]) {
  if (!userIds.length) return [];
  return db
    .select({
      userId: links.userId,
      integrationId: links.integrationId,
      provider: integrations.provider,
      status: links.status,
      remoteId: links.remoteId,
      remoteUrl: links.remoteUrl,
      lastSyncedAt: links.lastSyncedAt,
      lastError: links.lastError,
    })
    .from(links)
    .innerJoin(integrations, and(eq(integrations.id, links.integrationId), eq(integrations.tenantId, tenantId)))
    .where(and(eq(links.tenantId, tenantId), inArray(links.userId, userIds.slice(0, 90))))
    .orderBy(asc(links.userId), asc(links.integrationId));
}
