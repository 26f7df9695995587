import { and, eq, getTableColumns, is, lte, SQL, sql } from "drizzle-orm";
import type { Db } from "./client";
import { compile, rowMapper } from "./compiled";
import { receivesJobs } from "./integrations.repo";
import { directoryTombstones, directoryUsers, integrations, webhookEvents, type DirectoryUserRow } from "./schema";

/**
 * The statements of the directory's ingest (directory/ingest.ts applies each change
 * with them, in one D1 batch per group of changes).
 */

/** Maps a person's row as a statement returned it. */
export const toUserRow = rowMapper(directoryUsers);

export type IngestStatements = ReturnType<typeof compileStatements>;
let compiled: IngestStatements | undefined;

/** The ingest statements, written by drizzle once per isolate (the SQL does not depend on the binding); each change only binds its values. */
export function ingestStatements(db: Db): IngestStatements {
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
  // A person's values from bound parameters (one change), or from one element of a JSON array (many).
  const personValues = (value: (key: "id" | "email" | "emailLower" | "firstName" | "lastName" | "status" | "profile" | "at") => unknown): Record<keyof typeof userColumns, unknown> => ({
    tenantId: p("tenantId"),
    id: value("id"),
    email: value("email"),
    emailLower: value("emailLower"),
    firstName: value("firstName"),
    lastName: value("lastName"),
    status: value("status"),
    profile: value("profile"),
    version: 1,
    // No time from the source: the stored one (or none), so that the write claims no time
    // of its own and a later event from a clock a little behind still applies.
    sourceUpdatedAt: sql`coalesce(${value("at")}, (select ${directoryUsers.sourceUpdatedAt} from ${directoryUsers} where ${directoryUsers.tenantId} = ${p("tenantId")} and ${directoryUsers.id} = ${value("id")}), 0)`,
    needsPush: 0,
    createdAt: p("now"),
    updatedAt: p("now"),
  });
  // A removal remembered for a person not held yet makes an older create stale (API.md).
  const notRemovedLater = (id: unknown, at: unknown) =>
    sql`not exists (select 1 from ${directoryTombstones} where ${directoryTombstones.tenantId} = ${p("tenantId")} and ${directoryTombstones.id} = ${id} and ${directoryTombstones.sourceUpdatedAt} > ${at})`;
  const insertPerson = () => db.insert(directoryUsers).select(selectValues(personValues(p), sql`${fresh} and ${notRemovedLater(p("id"), p("at"))}`));
  const element = (key: string) => sql`json_extract(person.value, ${sql.raw(`'$.${key}'`)})`;
  const insertPeople = () =>
    db.insert(directoryUsers).select(selectValues(personValues(element), notRemovedLater(element("id"), element("at")), sql`json_each(${p("people")}) as person`));
  /** A full user's fields replaced; `status` says what becomes of the stored status. */
  const replaceFields = (status: SQL) => ({
    email: sql`excluded.email`,
    emailLower: sql`excluded.email_lower`,
    firstName: sql`excluded.first_name`,
    lastName: sql`excluded.last_name`,
    status,
    profile: sql`excluded.profile`,
    ...bump,
  });
  // A full user without a status keeps the stored one, unless the person was deleted:
  // sending them again brings them back.
  const keptStatus = sql`case when ${directoryUsers.status} = 'deleted' then 'active' else ${directoryUsers.status} end`;
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
        .onConflictDoUpdate({ target, set: replaceFields(sql`coalesce(${p("givenStatus")}, ${keptStatus})`), setWhere: newer })
        .returning(),
    ),
    /**
     * Many full users of one tenant in one statement (`people`: a JSON array of
     * `PersonElement`), with the same guards as `upsert`, for changes that are not
     * webhooks. `statusGiven` says for the whole array whether each element's status
     * was given (else the stored one is kept, as in `upsert`). Returns the rows written.
     */
    upsertMany: compile<"tenantId" | "people" | "statusGiven" | "now">(
      insertPeople()
        .onConflictDoUpdate({ target, set: replaceFields(sql`case when ${p("statusGiven")} = 1 then excluded.status else ${keptStatus} end`), setWhere: newer })
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
function selectValues(values: Record<keyof typeof userColumns, unknown>, condition: SQL, from?: SQL): SQL {
  const list = Object.entries(userColumns).map(([key, column]) => {
    const value = values[key as keyof typeof userColumns];
    return is(value, SQL) ? value : sql.param(value, column);
  });
  return sql`select ${sql.join(list, sql`, `)}${from ? sql` from ${from}` : sql``} where ${condition}`;
}

/** One person of `upsertMany`'s JSON array: the values `upsert` binds one by one. */
export interface PersonElement {
  id: string;
  email: string;
  emailLower: string;
  firstName: string | null;
  lastName: string | null;
  status: string;
  profile: string;
  at: number | null;
}

const userColumns = getTableColumns(directoryUsers);

/** One change's statements, bound: the person's write, and a webhook's delivery record and tombstone where it has them. */
export interface ChangeStatements {
  tenantId: string;
  user: D1PreparedStatement;
  webhook?: D1PreparedStatement;
  tombstone?: D1PreparedStatement;
}

/** What one batch wrote for one change: the person as written (none: the change was older), whether a webhook was new, and where the tenant's pushes go. */
export interface ChangeWritten {
  user: DirectoryUserRow | undefined;
  /** Null for a change that came by no webhook; false for a replayed webhook-id. */
  webhookNew: boolean | null;
  integrationIds: string[];
}

/**
 * Writes a group of changes in one D1 batch (atomic): the active integrations of their
 * tenants first, then each change's statements in order; answers, change by change, what
 * the batch wrote. The batch and the reading of its results are kept together here.
 */
export async function writeChanges(db: Db, changes: ChangeStatements[]): Promise<ChangeWritten[]> {
  const d1 = db.$client;
  const tenantIds = [...new Set(changes.map((c) => c.tenantId))];
  const slots = changes.map((c) => [c.user, c.webhook, c.tombstone].filter((s): s is D1PreparedStatement => s !== undefined));
  const [active, ...results] = await d1.batch<Record<string, unknown>>([ingestStatements(db).active.bind(d1, { tenantIds: JSON.stringify(tenantIds) }), ...slots.flat()]);
  let next = 0;
  return changes.map((c, i) => {
    const own = results.slice(next, next + slots[i]!.length);
    next += slots[i]!.length;
    const written = own[0]!.results[0];
    return {
      user: written ? toUserRow(written) : undefined,
      webhookNew: c.webhook ? own[1]!.results.length > 0 : null,
      integrationIds: active!.results.filter((r) => r.tenant_id === c.tenantId).map((r) => String(r.id)),
    };
  });
}

/**
 * Writes many full people of one tenant in one statement (with the tenant's active
 * integrations, in the same batch): answers the integrations and the people it wrote (a
 * person it did not write was older than the stored one).
 */
export async function writePeople(db: Db, tenantId: string, people: PersonElement[], statusGiven: boolean, now: number): Promise<{ integrationIds: string[]; written: Map<string, DirectoryUserRow> }> {
  const d1 = db.$client;
  const stmts = ingestStatements(db);
  const [active, written] = await d1.batch<Record<string, unknown>>([
    stmts.active.bind(d1, { tenantIds: JSON.stringify([tenantId]) }),
    stmts.upsertMany.bind(d1, { tenantId, people: JSON.stringify(people), statusGiven: statusGiven ? 1 : 0, now }),
  ]);
  return { integrationIds: active!.results.map((r) => String(r.id)), written: new Map(written!.results.map((raw) => [String(raw.id), toUserRow(raw)])) };
}

/** The people of a send that failed: the resync picks them up (`needs_push = 1`), unless a newer version came since. */
export async function markNeedsPush(db: Db, users: DirectoryUserRow[]): Promise<void> {
  const [first, ...rest] = users.map((u) =>
    db
      .update(directoryUsers)
      .set({ needsPush: 1 })
      .where(and(eq(directoryUsers.tenantId, u.tenantId), eq(directoryUsers.id, u.id), eq(directoryUsers.version, u.version))),
  );
  if (first) await db.batch([first, ...rest]);
}
