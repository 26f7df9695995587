import { and, asc, count, eq, gt, gte, inArray, isNotNull, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { jsonValues, type Db } from "./client";
import { directoryUsers, integrations, links, syncLogs, type DirectoryUserRow, type LinkRow } from "./schema";

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

/**
 * The statement that makes the next push of these people write even if their payload
 * looks unchanged. Any number of people: their ids are one JSON parameter.
 */
export function forgetHashesStatement(db: Db, integrationId: string, userIds: string[]) {
  return db
    .update(links)
    .set({ payloadHash: null })
    .where(and(eq(links.integrationId, integrationId), sql`${links.userId} in ${jsonValues(userIds)}`));
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

/** How many people of an integration are linked to a remote record. */
export async function linkedCount(db: Db, integrationId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(links).where(and(eq(links.integrationId, integrationId), isNotNull(links.remoteId)));
  return row?.n ?? 0;
}

/**
 * How many remote records an integration removed since `since`: its `delete ok` log lines,
 * and its `disable ok` ones (a removal under `deactivate`, where the provider has no
 * inactive state).
 */
export async function removalsSince(db: Db, integrationId: string, since: number): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(syncLogs)
    // The literals match the partial index sync_logs_removals (bound values would not).
    .where(and(eq(syncLogs.integrationId, integrationId), sql`${syncLogs.action} in ('delete', 'disable') and ${syncLogs.status} = 'ok'`, gt(syncLogs.at, since)));
  return row?.n ?? 0;
}

/**
 * The statements that settle the removals an admin cancelled (a removals run): each
 * person still waiting for it keeps their record, logged `skip`, and their link is
 * `synced` again with the reason; a later push of the same version leaves it so.
 */
export function cancelledRemovalsStatements(db: Db, run: { id: string; tenantId: string; integrationId: string; userIds: string | null }) {
  const now = Date.now();
  const detail = `The removal was cancelled by an admin (run ${run.id}); the record is left as it is.`;
  const waiting = and(
    eq(links.integrationId, run.integrationId),
    eq(links.status, "pending"),
    sql`${links.lastError} LIKE ${`%${run.id}%`}`,
    sql`${links.userId} IN (SELECT value FROM json_each(${run.userIds ?? "[]"}))`,
  );
  return [
    db
      .insert(syncLogs)
      .select(
        db
          .select({
            // Every column, in the table's order: the id is given by SQLite.
            id: sql<number>`null`.as("id"),
            tenantId: links.tenantId,
            integrationId: links.integrationId,
            userId: links.userId,
            action: sql<"skip">`'skip'`.as("action"),
            status: sql<"skipped">`'skipped'`.as("status"),
            remoteId: links.remoteId,
            detail: sql<string>`${detail}`.as("detail"),
            at: sql<number>`${now}`.as("at"),
          })
          .from(links)
          .where(waiting),
      ),
    db.update(links).set({ status: "synced", lastError: detail, failureKind: null, updatedAt: now }).where(waiting),
  ] as const;
}

/**
 * The statements that park people as `pending` links of their integrations (jobs that
 * cannot run yet: the reconnect's resync sends them). Idempotent.
 */
export function parkStatements(db: Db, jobs: { tenantId: string; integrationId: string; userId: string }[]) {
  const now = Date.now();
  const rows = [...new Map(jobs.map((j) => [`${j.integrationId}/${j.userId}`, j])).values()].map((j) => ({
    tenantId: j.tenantId,
    integrationId: j.integrationId,
    userId: j.userId,
    status: "pending" as const,
    updatedAt: now,
  }));
  // 5 columns a row: 20 rows a statement.
  return chunks(rows, 20).map((part) =>
    db
      .insert(links)
      .values(part)
      .onConflictDoUpdate({ target: [links.integrationId, links.userId], set: { status: sql`excluded.status`, updatedAt: sql`excluded.updated_at` } }),
  );
}

/**
 * The statement for a push job that used up its retries: the person's link becomes
 * `failed` with the last reason (created if the job never got as far as writing one),
 * unless the link already pushed this version or a newer one. A resync can replay it.
 */
export function deadLetterStatement(db: Db, job: { tenantId: string; integrationId: string; userId: string; version: number }) {
  const now = Date.now();
  return db
    .insert(links)
    .values({ tenantId: job.tenantId, integrationId: job.integrationId, userId: job.userId, status: "failed", failureKind: "retry", lastError: "Gave up after every retry: no answer", updatedAt: now })
    .onConflictDoUpdate({
      target: [links.integrationId, links.userId],
      set: { status: "failed", failureKind: "retry", lastError: sql`'Gave up after every retry: ' || coalesce(${links.lastError}, 'no answer')`, updatedAt: now },
      setWhere: sql`${links.status} = 'pending' or coalesce(${links.pushedVersion}, 0) < ${job.version}`,
    });
}

/**
 * The people of an integration left behind, changed between `from` and `to`: marked
 * `needs_push`, or active with no link, or a link (not failed) whose pushed version is
 * older than the directory's and that has not moved since `to`, or a link failed for a
 * passing reason (its job used up its retries) that has not moved since `to`. A link
 * failed for its data waits for the person's next change.
 */
export function peopleBehind(db: Db, integration: { tenantId: string; id: string }, window: { from: number; to: number }, limit: number) {
  return db
    .select({ id: directoryUsers.id, version: directoryUsers.version })
    .from(directoryUsers)
    .leftJoin(links, and(eq(links.integrationId, integration.id), eq(links.userId, directoryUsers.id)))
    .where(
      and(
        eq(directoryUsers.tenantId, integration.tenantId),
        gte(directoryUsers.updatedAt, window.from),
        lte(directoryUsers.updatedAt, window.to),
        or(
          eq(directoryUsers.needsPush, 1),
          and(isNull(links.userId), eq(directoryUsers.status, "active")),
          and(sql`${links.status} != 'failed'`, lt(sql`coalesce(${links.pushedVersion}, 0)`, directoryUsers.version), lte(links.updatedAt, window.to)),
          // Failed for a passing reason (every retry used up on 429s or 5xx): tried again once the link has rested.
          and(eq(links.status, "failed"), eq(links.failureKind, "retry"), lte(links.updatedAt, window.to)),
        ),
      ),
    )
    .limit(limit);
}

/**
 * Clears `needs_push` of the tenant's people changed between `from` and `to` whose jobs
 * were sent again to every integration that receives pushes: each such integration was
 * swept through their change (`swept_through`). A person with an integration not yet
 * swept that far stays marked.
 */
export async function clearNeedsPush(db: Db, tenantId: string, window: { from: number; to: number }): Promise<void> {
  await db
    .update(directoryUsers)
    .set({ needsPush: 0 })
    .where(
      and(
        eq(directoryUsers.tenantId, tenantId),
        eq(directoryUsers.needsPush, 1),
        gte(directoryUsers.updatedAt, window.from),
        lte(directoryUsers.updatedAt, window.to),
        sql`not exists (select 1 from ${integrations} where ${integrations.tenantId} = ${directoryUsers.tenantId} and ${integrations.status} = 'active' and ${integrations.receivesPushes} = 1 and coalesce(${integrations.sweptThrough}, 0) < ${directoryUsers.updatedAt})`,
      ),
    );
}

/**
 * The next people after `after` that a resync pushes: no link yet (active people), a
 * link `pending` or `failed` for a passing reason, or a directory version newer than the
 * last one pushed (a webhook whose job never ran, a disable not yet applied).
 */
export async function duePeople(db: Db, integration: { tenantId: string; id: string }, after: string, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: directoryUsers.id })
    .from(directoryUsers)
    .leftJoin(links, and(eq(links.integrationId, integration.id), eq(links.userId, directoryUsers.id)))
    .where(
      and(
        eq(directoryUsers.tenantId, integration.tenantId),
        gt(directoryUsers.id, after),
        or(
          and(isNull(links.userId), eq(directoryUsers.status, "active")),
          eq(links.status, "pending"),
          and(eq(links.status, "failed"), eq(links.failureKind, "retry")),
          lt(sql`coalesce(${links.pushedVersion}, 0)`, directoryUsers.version),
        ),
      ),
    )
    .orderBy(asc(directoryUsers.id))
    .limit(limit);
  return rows.map((r) => r.id);
}

/**
 * How many people of an integration are linked to a remote record, and how many of them
 * a run would remove under `policy`: deleted people (`delete`), or every inactive one.
 * A removal settled for the person's current version (an admin cancelled it) is not made again.
 */
export async function removalCounts(db: Db, integrationId: string, policy: "delete" | "deactivate"): Promise<{ linked: number; leaving: number }> {
  const leavingNow = policy === "delete" ? sql`${directoryUsers.status} = 'deleted'` : sql`${directoryUsers.status} != 'active'`;
  const [all] = await db
    .select({
      linked: count(),
      leaving: sql<number>`coalesce(sum((${leavingNow}) and not (${links.status} = 'synced' and ${links.pushedVersion} is ${directoryUsers.version})), 0)`,
    })
    .from(links)
    .innerJoin(directoryUsers, and(eq(directoryUsers.tenantId, links.tenantId), eq(directoryUsers.id, links.userId)))
    .where(and(eq(links.integrationId, integrationId), isNotNull(links.remoteId)));
  return { linked: all?.linked ?? 0, leaving: Number(all?.leaving ?? 0) };
}
