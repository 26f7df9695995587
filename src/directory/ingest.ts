import { and, eq, lte, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { receivesJobs } from "../db/integrations.repo";
import { directoryUsers, integrations, webhookEvents, type DirectoryUserRow } from "../db/schema";
import type { PushJob } from "../sync/jobs";
import { profileOf, type UserRef } from "./user";

/** What a source asks of one person. */
export type ChangeKind = "upsert" | "disable" | "delete";

export interface Change {
  kind: ChangeKind;
  /** The full user for `upsert`; for `disable`/`delete` at least the id. */
  user: UserRef;
  /** The source's time of the change (epoch ms): `data.updatedAt`, else the event's timestamp. */
  at: number;
  reason: PushJob["reason"];
  /** Set for webhooks: recorded in the same batch, keyed by `webhook-id`. */
  webhook?: { id: string; type: string; body: string };
}

export type IngestResult =
  | { outcome: "applied"; created: boolean; user: DirectoryUserRow }
  /** Nothing changed: the stored version is newer, or (disable/delete) the person is unknown. */
  | { outcome: "unchanged" }
  | { outcome: "duplicate" };

/**
 * Applies one change to the directory and enqueues one push job per active integration,
 * in one D1 round trip and one `sendBatch`:
 *
 * 1. the person's row, written only if the change is not older than what is stored
 *    (the guard is inside the statement, so racing deliveries cannot let the older win);
 * 2. for webhooks, the delivery record — its primary key (tenant, webhook-id) makes a
 *    replay fail the whole atomic batch, which is how duplicates have no effect — with an
 *    outcome computed from whether step 1 changed a row (`applied`, `stale`, `ignored`);
 * 3. the tenant's integrations that receive jobs, to fan out to.
 *
 * All of it is in D1 before the caller acknowledges; the send to the queue runs after the
 * answer, under `waitUntil`. If it fails, the row is marked `needs_push = 1` and the
 * resync picks it up.
 */
export async function applyChange(
  db: Db,
  queue: Queue<PushJob>,
  tenantId: string,
  change: Change,
  opts: { waitUntil: (p: Promise<unknown>) => void; now?: number },
): Promise<IngestResult> {
  const now = opts.now ?? Date.now();
  const write = userWrite(db, tenantId, change, now);
  const active = db
    .select({ id: integrations.id })
    .from(integrations)
    .where(and(eq(integrations.tenantId, tenantId), receivesJobs()));

  let written: DirectoryUserRow[];
  let activeRows: { id: string }[];
  try {
    if (change.webhook) {
      [written, , activeRows] = await db.batch([write, webhookRecord(db, tenantId, change, now), active]);
    } else {
      [written, activeRows] = await db.batch([write, active]);
    }
  } catch (err) {
    if (change.webhook && isUniqueViolation(err)) return { outcome: "duplicate" };
    throw err;
  }

  const user = written[0];
  if (!user) return { outcome: "unchanged" };
  const integrationIds = activeRows.map((r) => r.id);
  if (integrationIds.length) opts.waitUntil(enqueue(db, queue, user, integrationIds, change.reason));
  return { outcome: "applied", created: user.version === 1, user };
}

/** The statement that writes the person, guarded against older changes. */
function userWrite(db: Db, tenantId: string, change: Change, now: number) {
  const { user } = change;
  const newer = sql`excluded.source_updated_at >= ${directoryUsers.sourceUpdatedAt}`;
  const bump = {
    version: sql`${directoryUsers.version} + 1`,
    sourceUpdatedAt: sql`excluded.source_updated_at`,
    needsPush: 0,
    updatedAt: sql`excluded.updated_at`,
  };

  if (change.kind !== "upsert" && !user.email) {
    // No e-mail: the event can only change a person we hold.
    return db
      .update(directoryUsers)
      .set({
        status: change.kind === "delete" ? "deleted" : "disabled",
        version: sql`${directoryUsers.version} + 1`,
        sourceUpdatedAt: change.at,
        needsPush: 0,
        updatedAt: now,
      })
      .where(and(eq(directoryUsers.tenantId, tenantId), eq(directoryUsers.id, user.id), lte(directoryUsers.sourceUpdatedAt, change.at)))
      .returning();
  }

  const email = user.email!;
  const givenStatus: DirectoryUserRow["status"] | null =
    change.kind === "upsert" ? (user.status ?? null) : change.kind === "delete" ? "deleted" : "disabled";
  const values = {
    tenantId,
    id: user.id,
    email,
    emailLower: email.toLowerCase(),
    firstName: user.firstName ?? null,
    lastName: user.lastName ?? null,
    status: givenStatus ?? "active",
    profile: JSON.stringify(profileOf(user)),
    version: 1,
    sourceUpdatedAt: change.at,
    needsPush: 0,
    createdAt: now,
    updatedAt: now,
  };
  const set =
    change.kind === "upsert"
      ? {
          email: sql`excluded.email`,
          emailLower: sql`excluded.email_lower`,
          firstName: sql`excluded.first_name`,
          lastName: sql`excluded.last_name`,
          // A full user without a status keeps the stored one, unless the person was
          // deleted: sending them again brings them back.
          status: sql`coalesce(${givenStatus}, case when ${directoryUsers.status} = 'deleted' then 'active' else ${directoryUsers.status} end)`,
          profile: sql`excluded.profile`,
          ...bump,
        }
      : // disable/delete of a person we hold changes the status only.
        { status: sql`excluded.status`, ...bump };
  return db
    .insert(directoryUsers)
    .values(values)
    .onConflictDoUpdate({ target: [directoryUsers.tenantId, directoryUsers.id], set, setWhere: newer })
    .returning();
}

/** The delivery record; its outcome says whether the preceding write changed a row. */
function webhookRecord(db: Db, tenantId: string, change: Change, now: number) {
  const hook = change.webhook!;
  const outcome = sql`case when changes() > 0 then 'applied'
    when exists (select 1 from ${directoryUsers} where ${directoryUsers.tenantId} = ${tenantId} and ${directoryUsers.id} = ${change.user.id}) then 'stale'
    else 'ignored' end`;
  return db.insert(webhookEvents).values({
    tenantId,
    webhookId: hook.id,
    type: hook.type,
    userId: change.user.id,
    outcome,
    body: hook.body,
    receivedAt: now,
  });
}

/**
 * One message per active integration, in one `sendBatch` (≤ 100 messages a call). Only a
 * failure writes: the row gets `needs_push = 1`, the resync's cheap index of what to push.
 * (A crash between the write and the send is caught too: the resync compares each
 * person's version with the version each link last pushed.)
 */
async function enqueue(db: Db, queue: Queue<PushJob>, user: DirectoryUserRow, integrationIds: string[], reason: PushJob["reason"]): Promise<boolean> {
  const messages = integrationIds.map((integrationId) => ({
    body: { kind: "push", tenantId: user.tenantId, integrationId, userId: user.id, version: user.version, reason } satisfies PushJob,
    contentType: "json" as const,
  }));
  try {
    for (let i = 0; i < messages.length; i += 100) await queue.sendBatch(messages.slice(i, i + 100));
    return true;
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "enqueue failed; left for the resync", tenantId: user.tenantId, userId: user.id, error: String(err) }));
    await db
      .update(directoryUsers)
      .set({ needsPush: 1 })
      .where(and(eq(directoryUsers.tenantId, user.tenantId), eq(directoryUsers.id, user.id), eq(directoryUsers.version, user.version)));
    return false;
  }
}

function isUniqueViolation(err: unknown): boolean {
  const text = String(err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : err);
  return /UNIQUE constraint failed|SQLITE_CONSTRAINT/i.test(text);
}
