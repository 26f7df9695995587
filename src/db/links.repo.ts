import { and, asc, eq, gt, ne } from "drizzle-orm";
import type { Db } from "./client";
import { directoryUsers, links, remoteUnmatched, syncLogs, type LinkRow } from "./schema";

type Scope = { tenantId: string; id: string };

/** An integration's links with each person's e-mail, by user id, optionally of one status, one person, or after a user id. */
export function linksWithEmail(db: Db, integration: Scope, filter: { status?: LinkRow["status"]; userId?: string; afterUserId?: string | null }, limit: number) {
  return db
    .select({ link: links, email: directoryUsers.email, firstName: directoryUsers.firstName, lastName: directoryUsers.lastName })
    .from(links)
    .innerJoin(directoryUsers, and(eq(directoryUsers.tenantId, links.tenantId), eq(directoryUsers.id, links.userId)))
    .where(
      and(
        eq(links.tenantId, integration.tenantId),
        eq(links.integrationId, integration.id),
        filter.status ? eq(links.status, filter.status) : undefined,
        filter.userId ? eq(links.userId, filter.userId) : undefined,
        filter.afterUserId ? gt(links.userId, filter.afterUserId) : undefined,
      ),
    )
    .orderBy(asc(links.userId))
    .limit(limit);
}

/** People of an integration left `unmatched`, with the reason. */
export function unmatchedPeople(db: Db, integration: Scope, limit: number) {
  return db
    .select({ user: directoryUsers, lastError: links.lastError })
    .from(links)
    .innerJoin(directoryUsers, and(eq(directoryUsers.tenantId, links.tenantId), eq(directoryUsers.id, links.userId)))
    .where(and(eq(links.tenantId, integration.tenantId), eq(links.integrationId, integration.id), eq(links.status, "unmatched")))
    .orderBy(asc(links.userId))
    .limit(limit);
}

/** Remote records the last reconciliation could not match (or that were unlinked by hand). */
export function unmatchedRecords(db: Db, integration: Scope, limit: number) {
  return db
    .select()
    .from(remoteUnmatched)
    .where(and(eq(remoteUnmatched.tenantId, integration.tenantId), eq(remoteUnmatched.integrationId, integration.id)))
    .orderBy(asc(remoteUnmatched.remoteId))
    .limit(limit);
}

/** Who else holds a remote record in an integration, if anyone. */
export async function otherHolder(db: Db, integrationId: string, remoteId: string, userId: string): Promise<string | null> {
  const [row] = await db
    .select({ userId: links.userId })
    .from(links)
    .where(and(eq(links.integrationId, integrationId), eq(links.remoteId, remoteId), ne(links.userId, userId)));
  return row?.userId ?? null;
}

export async function getLink(db: Db, integrationId: string, userId: string): Promise<LinkRow | null> {
  const [row] = await db.select().from(links).where(and(eq(links.integrationId, integrationId), eq(links.userId, userId)));
  return row ?? null;
}

/**
 * Links a person to a record by hand, in one batch: the link (pending: the directory's
 * values go to the record next), its log line, and the record off the unmatched list.
 * Answers false, with nothing written, when someone else was linked to the record
 * meanwhile (the unique index of a record's link refused it).
 */
export async function linkByHand(db: Db, integration: Scope, userId: string, remoteId: string, remoteUrl: string | null): Promise<boolean> {
  const now = Date.now();
  const fields = { remoteId, remoteUrl, status: "pending" as const, payloadHash: null, pushedVersion: null, lastError: null, failureKind: null, manual: "linked" as const, updatedAt: now };
  try {
    await db.batch([
      db
        .insert(links)
        .values({ tenantId: integration.tenantId, integrationId: integration.id, userId, ...fields })
        .onConflictDoUpdate({ target: [links.integrationId, links.userId], set: fields }),
      db.insert(syncLogs).values({ tenantId: integration.tenantId, integrationId: integration.id, userId, action: "link", status: "ok", remoteId, detail: "linked by hand", at: now }),
      db.delete(remoteUnmatched).where(and(eq(remoteUnmatched.integrationId, integration.id), eq(remoteUnmatched.remoteId, remoteId))),
    ]);
    return true;
  } catch (err) {
    if (/UNIQUE constraint failed/i.test(String(err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : err))) return false;
    throw err;
  }
}

/**
 * Unlinks a person by hand, in one batch: the link becomes `unmatched` (not matched again
 * automatically), a log line says so, and the record joins the unmatched list.
 */
export async function unlinkByHand(db: Db, integration: Scope, user: { id: string; email: string; version: number }, link: LinkRow): Promise<void> {
  const now = Date.now();
  await db.batch([
    db
      .update(links)
      .set({ remoteId: null, remoteUrl: null, payloadHash: null, status: "unmatched", manual: "unlinked", lastError: "Unlinked by hand.", failureKind: null, pushedVersion: user.version, updatedAt: now })
      .where(and(eq(links.integrationId, integration.id), eq(links.userId, user.id))),
    db.insert(syncLogs).values({ tenantId: integration.tenantId, integrationId: integration.id, userId: user.id, action: "link", status: "ok", remoteId: link.remoteId, detail: "unlinked by hand; the remote record stays", at: now }),
    ...(link.remoteId
      ? [
          db
            .insert(remoteUnmatched)
            .values({ tenantId: integration.tenantId, integrationId: integration.id, remoteId: link.remoteId, email: user.email, name: null, remoteUrl: link.remoteUrl, runId: "unlinked" })
            .onConflictDoNothing(),
        ]
      : []),
  ]);
}
