import { and, eq, getTableColumns, is, lte, SQL, sql } from "drizzle-orm";
import { compile, rowMapper } from "../db/compiled";
import type { Db } from "../db/client";
import { receivesJobs } from "../db/integrations.repo";
import { directoryTombstones, directoryUsers, integrations, webhookEvents, type DirectoryUserRow } from "../db/schema";
import { GroupCommit, type WaitUntil } from "../lib/group-commit";
import type { PushJob } from "../jobs/messages";
import type { Change } from "../lib/change";
import { profileOf } from "./user";

export type { Change, ChangeKind } from "../lib/change";

export type IngestResult =
  | { outcome: "applied"; created: boolean; user: DirectoryUserRow }
  /** Nothing changed: the stored version is newer, or (disable/delete) the person is unknown. */
  | { outcome: "unchanged" }
  | { outcome: "duplicate" };

/** How many changes one D1 round trip may carry: two statements each, well inside D1's limits. */
const MAX_GROUP = 32;

interface Pending {
  tenantId: string;
  change: Change;
  queue: Queue<PushJob>;
  now: number;
}

const writers = new WeakMap<Db, GroupCommit<Pending, IngestResult>>();

/**
 * Applies one change to the directory and enqueues one push job per active integration.
 * Changes arriving together in one isolate are written together (group commit, see
 * `GroupCommit`): one D1 batch and one `sendBatch` serve the whole group, so under load
 * the cost of a round trip is shared; a lone change is written at once. In the batch:
 *
 * 1. the tenants' integrations that receive jobs, to fan out to;
 * 2. for each change, the person's row, written only if the change is not older than
 *    what is stored (the guard is inside the statement, so racing deliveries cannot let
 *    the older win) and, for a webhook, only if its `webhook-id` is new;
 * 3. right after it, for webhooks, the delivery record, keyed by (tenant, `webhook-id`),
 *    with an outcome computed from whether step 2 changed a row (`applied`, `stale`,
 *    `ignored`); a replay inserts nothing and so answers `duplicate`.
 *
 * All of it is in D1 before any caller is answered; the send to the queue runs after,
 * under `waitUntil`. If it fails, the rows are marked `needs_push = 1` and the resync
 * picks them up.
 */
export function applyChange(
  db: Db,
  queue: Queue<PushJob>,
  tenantId: string,
  change: Change,
  opts: { waitUntil: WaitUntil; now?: number },
): Promise<IngestResult> {
  let writer = writers.get(db);
  if (!writer) {
    writer = new GroupCommit((group, waitUntil) => writeGroup(db, group, waitUntil), { maxGroup: MAX_GROUP, pollMs: 1, giveUpMs: 30_000 });
    writers.set(db, writer);
  }
  return writer.submit({ tenantId, change, queue, now: opts.now ?? Date.now() }, opts.waitUntil);
}

/** One batch for the group; if it fails, each change is tried alone so that one bad change fails only itself. */
async function writeGroup(db: Db, group: Pending[], waitUntil: WaitUntil): Promise<PromiseSettledResult<IngestResult>[]> {
  let outcomes: PromiseSettledResult<Written>[];
  try {
    outcomes = (await writeBatch(db, group)).map((value) => ({ status: "fulfilled", value }));
  } catch (err) {
    if (group.length === 1) throw err;
    outcomes = await Promise.allSettled(group.map(async (p) => (await writeBatch(db, [p]))[0]!));
  }
  const toSend: { pending: Pending; user: DirectoryUserRow; integrationIds: string[] }[] = [];
  const results = outcomes.map((o, i): PromiseSettledResult<IngestResult> => {
    if (o.status === "rejected") return o;
    const { result, integrationIds } = o.value;
    if (result.outcome === "applied" && integrationIds.length) toSend.push({ pending: group[i]!, user: result.user, integrationIds });
    return { status: "fulfilled", value: result };
  });
  if (toSend.length) waitUntil(enqueue(db, toSend));
  return results;
}

interface Written {
  result: IngestResult;
  integrationIds: string[];
}

async function writeBatch(db: Db, group: Pending[]): Promise<Written[]> {
  const d1 = db.$client;
  const stmts = statements(db);
  const tenantIds = [...new Set(group.map((p) => p.tenantId))];
  const batch = [stmts.active.bind(d1, { tenantIds: JSON.stringify(tenantIds) })];
  for (const p of group) {
    batch.push(userWrite(stmts, d1, p));
    if (p.change.webhook) batch.push(webhookRecord(stmts, d1, p));
    if (remembersRemoval(p)) batch.push(tombstone(stmts, d1, p));
  }
  const [active, ...rest] = await d1.batch<Record<string, unknown>>(batch);

  let at = 0;
  return group.map((p) => {
    const written = rest[at++]!.results;
    const recorded = p.change.webhook ? rest[at++]!.results : null;
    if (remembersRemoval(p)) at++;
    const integrationIds = active!.results.filter((r) => r.tenant_id === p.tenantId).map((r) => String(r.id));
    if (recorded && recorded.length === 0) return { result: { outcome: "duplicate" }, integrationIds };
    const user = written[0] ? toUserRow(written[0]) : undefined;
    if (!user) return { result: { outcome: "unchanged" }, integrationIds };
    return { result: { outcome: "applied", created: user.version === 1, user }, integrationIds };
  });
}

const toUserRow = rowMapper(directoryUsers);

/** The person's write for one change: which statement, with which values. */
function userWrite(stmts: Statements, d1: D1Database, { tenantId, change, now }: Pending): D1PreparedStatement {
  const { user } = change;
  const guard = { tenantId, webhookId: change.webhook?.id ?? null };
  if (change.kind !== "upsert" && !user.email) {
    // No e-mail: the event can only change a person we hold.
    return stmts.statusOfHeld.bind(d1, { ...guard, id: user.id, status: change.kind === "delete" ? "deleted" : "disabled", at: change.at ?? now, now });
  }
  const email = user.email!;
  const givenStatus: DirectoryUserRow["status"] | null =
    change.kind === "upsert" ? (user.status ?? null) : change.kind === "delete" ? "deleted" : "disabled";
  const values = {
    ...guard,
    id: user.id,
    email,
    emailLower: email.toLowerCase(),
    firstName: user.firstName ?? null,
    lastName: user.lastName ?? null,
    givenStatus,
    status: givenStatus ?? "active",
    profile: JSON.stringify(profileOf(user)),
    at: change.at,
    now,
  };
  return (change.kind === "upsert" ? stmts.upsert : stmts.statusOnly).bind(d1, values);
}

/** A webhook disable or delete without an e-mail: if the person is not held yet, it is remembered. */
function remembersRemoval({ change }: Pending): boolean {
  return change.webhook !== undefined && change.kind !== "upsert" && !change.user.email;
}

/** The tombstone of a removal for a person not held, after the delivery record said so (`ignored`). */
function tombstone(stmts: Statements, d1: D1Database, { tenantId, change, now }: Pending): D1PreparedStatement {
  return stmts.tombstone.bind(d1, { tenantId, webhookId: change.webhook!.id, id: change.user.id, status: change.kind === "delete" ? "deleted" : "disabled", at: change.at ?? now, now });
}

/** The delivery record of a webhook, right after the person's write. */
function webhookRecord(stmts: Statements, d1: D1Database, { tenantId, change, now }: Pending): D1PreparedStatement {
  const hook = change.webhook!;
  return stmts.record.bind(d1, { tenantId, webhookId: hook.id, type: hook.type, userId: change.user.id, body: hook.body, now });
}

type Statements = ReturnType<typeof compileStatements>;
let compiled: Statements | undefined;

/** The ingest statements, written by drizzle once per isolate (the SQL does not depend on the binding); each change only binds its values. */
function statements(db: Db): Statements {
  return (compiled ??= compileStatements(db));
}

function compileStatements(db: Db) {
  const p = sql.placeholder;
  // A replayed webhook-id changes nothing (REST changes bind a null webhook id: never recorded).
  const fresh = sql`not exists (select 1 from ${webhookEvents} where ${webhookEvents.tenantId} = ${p("tenantId")} and ${webhookEvents.webhookId} = ${p("webhookId")})`;
  // The guard against older changes is inside the statement, so racing deliveries cannot let the older win.
  const newer = sql`excluded.source_updated_at >= ${directoryUsers.sourceUpdatedAt}`;
  const bump = {
    version: sql`${directoryUsers.version} + 1`,
    sourceUpdatedAt: sql`excluded.source_updated_at`,
    needsPush: 0,
    updatedAt: sql`excluded.updated_at`,
  };
  const row: Record<keyof typeof userColumns, unknown> = {
    tenantId: p("tenantId"),
    id: p("id"),
    email: p("email"),
    emailLower: p("emailLower"),
    firstName: p("firstName"),
    lastName: p("lastName"),
    status: p("status"),
    profile: p("profile"),
    version: 1,
    // No time from the source: the stored one (or none), so that the write claims no time
    // of its own and a later event from a clock a little behind still applies.
    sourceUpdatedAt: sql`coalesce(${p("at")}, (select ${directoryUsers.sourceUpdatedAt} from ${directoryUsers} where ${directoryUsers.tenantId} = ${p("tenantId")} and ${directoryUsers.id} = ${p("id")}), 0)`,
    needsPush: 0,
    createdAt: p("now"),
    updatedAt: p("now"),
  };
  // A removal remembered for a person not held yet makes an older create stale (API.md).
  const notRemovedLater = sql`not exists (select 1 from ${directoryTombstones} where ${directoryTombstones.tenantId} = ${p("tenantId")} and ${directoryTombstones.id} = ${p("id")} and ${directoryTombstones.sourceUpdatedAt} > ${p("at")})`;
  const insertPerson = () => db.insert(directoryUsers).select(selectValues(row, sql`${fresh} and ${notRemovedLater}`));
  const target = [directoryUsers.tenantId, directoryUsers.id];
  return {
    active: compile<"tenantIds">(
      db
        .select({ tenantId: integrations.tenantId, id: integrations.id })
        .from(integrations)
        .where(and(sql`${integrations.tenantId} in (select value from json_each(${p("tenantIds")}))`, receivesJobs())),
    ),
    /** A full user: created, or its fields replaced. */
    upsert: compile<PersonValue>(
      insertPerson()
        .onConflictDoUpdate({
          target,
          set: {
            email: sql`excluded.email`,
            emailLower: sql`excluded.email_lower`,
            firstName: sql`excluded.first_name`,
            lastName: sql`excluded.last_name`,
            // A full user without a status keeps the stored one, unless the person was
            // deleted: sending them again brings them back.
            status: sql`coalesce(${p("givenStatus")}, case when ${directoryUsers.status} = 'deleted' then 'active' else ${directoryUsers.status} end)`,
            profile: sql`excluded.profile`,
            ...bump,
          },
          setWhere: newer,
        })
        .returning(),
    ),
    /** Disable/delete with an e-mail: a person we hold changes status only; one we don't is created so. */
    statusOnly: compile<PersonValue>(
      insertPerson()
        .onConflictDoUpdate({ target, set: { status: sql`excluded.status`, ...bump }, setWhere: newer })
        .returning(),
    ),
    /** Disable/delete without an e-mail: only a person we hold. */
    statusOfHeld: compile<"tenantId" | "webhookId" | "id" | "status" | "at" | "now">(
      db
        .update(directoryUsers)
        .set({ status: sql`${p("status")}`, version: sql`${directoryUsers.version} + 1`, sourceUpdatedAt: sql`${p("at")}`, needsPush: 0, updatedAt: sql`${p("now")}` })
        .where(and(eq(directoryUsers.tenantId, sql`${p("tenantId")}`), eq(directoryUsers.id, sql`${p("id")}`), lte(directoryUsers.sourceUpdatedAt, sql`${p("at")}`), fresh))
        .returning(),
    ),
    /**
     * The delivery record: its outcome says whether the person's write just before it
     * changed a row. A replayed `webhook-id` inserts nothing and returns no row.
     */
    record: compile<"tenantId" | "webhookId" | "type" | "userId" | "body" | "now">(
      db
        .insert(webhookEvents)
        .values({
          tenantId: p("tenantId"),
          webhookId: p("webhookId"),
          type: p("type"),
          userId: p("userId"),
          outcome: sql`case when changes() > 0 then 'applied'
            when exists (select 1 from ${directoryUsers} where ${directoryUsers.tenantId} = ${p("tenantId")} and ${directoryUsers.id} = ${p("userId")}) then 'stale'
            when exists (select 1 from ${directoryTombstones} where ${directoryTombstones.tenantId} = ${p("tenantId")} and ${directoryTombstones.id} = ${p("userId")}) then 'stale'
            else 'ignored' end`,
          body: p("body"),
          receivedAt: p("now"),
        })
        .onConflictDoNothing()
        .returning({ webhookId: webhookEvents.webhookId }),
    ),
    /**
     * After the delivery record: a removal of a person not held (`ignored`) is remembered,
     * or a remembered one moved forward when this one is newer.
     */
    tombstone: compile<"tenantId" | "webhookId" | "id" | "status" | "at" | "now">(
      db
        .insert(directoryTombstones)
        .select(
          sql`select ${p("tenantId")}, ${p("id")}, ${p("status")}, ${p("at")}, ${p("now")}
            where exists (select 1 from ${webhookEvents} where ${webhookEvents.tenantId} = ${p("tenantId")} and ${webhookEvents.webhookId} = ${p("webhookId")} and ${webhookEvents.outcome} = 'ignored')`,
        )
        .onConflictDoUpdate({
          target: [directoryTombstones.tenantId, directoryTombstones.id],
          set: { status: sql`excluded.status`, sourceUpdatedAt: sql`excluded.source_updated_at` },
          setWhere: sql`excluded.source_updated_at > ${directoryTombstones.sourceUpdatedAt}`,
        }),
    ),
  };
}

type PersonValue = "tenantId" | "webhookId" | "id" | "email" | "emailLower" | "firstName" | "lastName" | "givenStatus" | "status" | "profile" | "at" | "now";

/**
 * `select <values> where <condition>`, in the insert's column order: an insert that only
 * happens if the condition holds. (SQLite needs the WHERE for an upsert from a SELECT.)
 */
function selectValues(values: Record<keyof typeof userColumns, unknown>, condition: SQL): SQL {
  const list = Object.entries(userColumns).map(([key, column]) => {
    const value = values[key as keyof typeof userColumns];
    return is(value, SQL) ? value : sql.param(value, column);
  });
  return sql`select ${sql.join(list, sql`, `)} where ${condition}`;
}

const userColumns = getTableColumns(directoryUsers);

/**
 * One message per person and active integration, for the whole group, in as few
 * `sendBatch` calls as fit (≤ 100 messages a call). Only a failure writes: the people of
 * a batch that failed get `needs_push = 1`, the resync's cheap index of what to push.
 * (A crash between the write and the send is caught too: the resync compares each
 * person's version with the version each link last pushed.)
 */
async function enqueue(db: Db, toSend: { pending: Pending; user: DirectoryUserRow; integrationIds: string[] }[]): Promise<void> {
  const byQueue = new Map<Queue<PushJob>, { user: DirectoryUserRow; job: PushJob }[]>();
  for (const { pending, user, integrationIds } of toSend) {
    const list = byQueue.get(pending.queue) ?? [];
    for (const integrationId of integrationIds) {
      list.push({ user, job: { kind: "push", tenantId: user.tenantId, integrationId, userId: user.id, version: user.version, reason: pending.change.reason } });
    }
    byQueue.set(pending.queue, list);
  }
  for (const [queue, messages] of byQueue) {
    for (let i = 0; i < messages.length; i += 100) {
      const chunk = messages.slice(i, i + 100);
      try {
        await queue.sendBatch(chunk.map(({ job }) => ({ body: job, contentType: "json" as const })));
      } catch (err) {
        const users = [...new Map(chunk.map(({ user }) => [`${user.tenantId}/${user.id}`, user])).values()];
        console.error(JSON.stringify({ level: "error", msg: "enqueue failed; left for the resync", users: users.map((u) => u.id), error: String(err) }));
        await markNeedsPush(db, users);
      }
    }
  }
}

async function markNeedsPush(db: Db, users: DirectoryUserRow[]): Promise<void> {
  const [first, ...rest] = users.map((u) =>
    db
      .update(directoryUsers)
      .set({ needsPush: 1 })
      .where(and(eq(directoryUsers.tenantId, u.tenantId), eq(directoryUsers.id, u.id), eq(directoryUsers.version, u.version))),
  );
  if (first) await db.batch([first, ...rest]);
}
