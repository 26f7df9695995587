import { and, asc, desc, eq, isNotNull, isNull, lt, lte, sql } from "drizzle-orm";
import * as v from "valibot";
import { jsonValues, type Db } from "./client";
import { directoryUsers, importKeys, importLocations, importMappings, imports, runs, type ImportKeyRow, type ImportRow } from "./schema";

const Headers = v.array(v.string());

/** An import's header row (its JSON column, checked). */
export function importHeaders(row: ImportRow): string[] {
  return v.parse(Headers, JSON.parse(row.headers));
}

export async function insertImport(db: Db, row: Omit<ImportRow, "runId" | "status" | "pickupKey" | "planId" | "planStep" | "planMovedAt" | "sourceKey">): Promise<ImportRow> {
  const full: ImportRow = { ...row, status: "uploaded", runId: null, pickupKey: null, planId: null, planStep: null, planMovedAt: null, sourceKey: null };
  await db.insert(imports).values(full);
  return full;
}

/**
 * Claims a file of a tenant's pickup location for import: the row is inserted only if no
 * tick claimed the same file (key, etag and time) before. Null when another tick has it.
 * Its plan starts once the file is copied in (`startPlanning`).
 */
export async function claimPickup(db: Db, row: Omit<ImportRow, "runId" | "status" | "planStep" | "planMovedAt">): Promise<ImportRow | null> {
  const [claimed] = await db
    .insert(imports)
    .values({ ...row, status: "uploaded", runId: null, planStep: null, planMovedAt: null })
    .onConflictDoNothing({ target: imports.pickupKey })
    .returning();
  return claimed ?? null;
}

/** A claimed file is copied in: its plan starts at step 0 (and the cron sends on a plan that stands still from now). */
export async function startPlanning(db: Db, id: string, now: number): Promise<void> {
  await db.update(imports).set({ planStep: 0, planMovedAt: now }).where(and(eq(imports.id, id), isNull(imports.planStep), eq(imports.status, "uploaded")));
}

/** Gives back the claim of a file whose copy failed, so that the next look takes it again. */
export async function releasePickup(db: Db, id: string): Promise<void> {
  await db.delete(imports).where(and(eq(imports.id, id), isNull(imports.planStep), eq(imports.status, "uploaded")));
}

/** What reading the file found: its rows, headers and delimiter. */
export async function describeImport(db: Db, id: string, found: Pick<ImportRow, "rows" | "headers" | "delimiter">): Promise<void> {
  await db.update(imports).set(found).where(eq(imports.id, id));
}

/** One import of a tenant, or null (another tenant's id is simply not found). */
export async function getImport(db: Db, tenantId: string, id: string): Promise<ImportRow | null> {
  const [row] = await db.select().from(imports).where(and(eq(imports.tenantId, tenantId), eq(imports.id, id))).limit(1);
  return row ?? null;
}

/** A tenant's imports, newest first, before the cursor's `createdAt:id`. */
export function listImports(db: Db, tenantId: string, before: { createdAt: number; id: string } | null, limit: number): Promise<ImportRow[]> {
  return db
    .select()
    .from(imports)
    .where(and(eq(imports.tenantId, tenantId), before ? sql`(${imports.createdAt}, ${imports.id}) < (${before.createdAt}, ${before.id})` : undefined))
    .orderBy(desc(imports.createdAt), desc(imports.id))
    .limit(limit);
}

export type ImportKeyKind = ImportKeyRow["kind"];


/** Directory people of a tenant by id or by exact e-mail, any number at once. */
function peopleByKeys(db: Db, tenantId: string, kind: ImportKeyKind, keys: string[]) {
  const column = kind === "id" ? directoryUsers.id : directoryUsers.email;
  return db.select().from(directoryUsers).where(and(eq(directoryUsers.tenantId, tenantId), sql`${column} in ${jsonValues(keys)}`));
}

/**
 * Remembers keys of a plan's rows (any number: one statement per thousand). A row's key
 * is stored once however often it is written, so a step of a plan may run again.
 */
export async function addImportKeys(db: Db, planId: string, keys: { kind: ImportKeyKind; row: number; key: string }[], now: number): Promise<void> {
  const statements = [];
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = JSON.stringify(keys.slice(i, i + 1000).map((k) => [k.kind, k.row, k.key]));
    statements.push(
      db
        .insert(importKeys)
        // `where true`: SQLite would read the upsert's `on` as a join constraint without it.
        .select(
          sql`select ${planId}, json_extract(k.value, '$[0]'), json_extract(k.value, '$[1]'), json_extract(k.value, '$[2]'), lower(json_extract(k.value, '$[2]')), ${now} from json_each(${chunk}) as k where true`,
        )
        .onConflictDoNothing(),
    );
  }
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

/** Of these keys of a plan, those on more than one row. */
function sharedKeysQuery(db: Db, planId: string, kind: ImportKeyKind, keys: string[]) {
  return db
    .select({ key: importKeys.key })
    .from(importKeys)
    .where(and(eq(importKeys.planId, planId), eq(importKeys.kind, kind), sql`${importKeys.key} in ${jsonValues(keys)}`))
    .groupBy(importKeys.key)
    .having(sql`count(*) > 1`);
}

/**
 * What planning needs to know about a batch of rows, in one round trip: the directory
 * people they name (by id, or by e-mail for rows without one), which of their ids and
 * e-mails are on more than one row of the file, and their e-mails written more than one
 * way (differing only in case), with every spelling.
 */
export async function lookUpRows(db: Db, tenantId: string, planId: string, rows: { ids: string[]; emailsWithoutId: string[]; emails: string[] }) {
  const lowers = [...new Set(rows.emails.map((e) => e.toLowerCase()))];
  const [byId, byEmail, sharedIds, sharedEmails, spellings] = await db.batch([
    peopleByKeys(db, tenantId, "id", rows.ids),
    peopleByKeys(db, tenantId, "email", rows.emailsWithoutId),
    sharedKeysQuery(db, planId, "id", rows.ids),
    sharedKeysQuery(db, planId, "email", rows.emails),
    db
      .select({ lower: importKeys.keyLower, spellings: sql<string>`json_group_array(distinct ${importKeys.key})` })
      .from(importKeys)
      .where(and(eq(importKeys.planId, planId), eq(importKeys.kind, "email"), sql`${importKeys.keyLower} in ${jsonValues(lowers)}`))
      .groupBy(importKeys.keyLower)
      .having(sql`count(distinct ${importKeys.key}) > 1`),
  ]);
  return { byId, byEmail, sharedIds: sharedIds.map((k) => k.key), sharedEmails: sharedEmails.map((k) => k.key), spellings };
}

/** Whether a row of the plan names the person, by id or by e-mail (a person a row names either way is not absent). */
function namedByPlan(planId: string) {
  const named = (kind: ImportKeyKind, column: typeof directoryUsers.id | typeof directoryUsers.email) =>
    sql`exists (select 1 from ${importKeys} where ${importKeys.planId} = ${planId} and ${importKeys.kind} = ${kind} and ${importKeys.key} = ${column})`;
  return sql`(${named("id", directoryUsers.id)} or ${named("email", directoryUsers.email)})`;
}

/** The tenant's active people no row of the plan names, in id order, after `after`: those `full` mode disables. */
export async function absentPeopleIds(db: Db, tenantId: string, planId: string, after: string | null, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: directoryUsers.id })
    .from(directoryUsers)
    .where(and(eq(directoryUsers.tenantId, tenantId), eq(directoryUsers.status, "active"), after !== null ? sql`${directoryUsers.id} > ${after}` : undefined, sql`not ${namedByPlan(planId)}`))
    .orderBy(directoryUsers.id)
    .limit(limit);
  return rows.map((r) => r.id);
}

/** How many of the tenant's people are active, and how many of them the plan's rows name. */
export async function activePeopleNamed(db: Db, tenantId: string, planId: string): Promise<{ active: number; named: number }> {
  const [row] = await db
    .select({ active: sql<number>`count(*)`, named: sql<number>`coalesce(sum(${namedByPlan(planId)}), 0)` })
    .from(directoryUsers)
    .where(and(eq(directoryUsers.tenantId, tenantId), eq(directoryUsers.status, "active")));
  return { active: row?.active ?? 0, named: row?.named ?? 0 };
}

/** Forgets a plan's keys (in slices, each well inside D1's time for one query). */
export async function dropImportKeys(db: Db, planId: string): Promise<void> {
  for (;;) {
    const gone = await db.run(sql`delete from ${importKeys} where rowid in (select rowid from ${importKeys} where ${importKeys.planId} = ${planId} limit 20000)`);
    if (!gone.meta.changes) return;
  }
}

/** Keys left by plans that died before they could forget them; answers how many went. */
export async function dropStaleImportKeys(db: Db, before: number): Promise<number> {
  const gone = await db.delete(importKeys).where(lt(importKeys.createdAt, before));
  return gone.meta.changes;
}

/** Marks an import applying under its run and plan, or ended (applied or failed). */
export async function setImportStatus(db: Db, id: string, status: ImportRow["status"], run?: { runId: string; planId: string }): Promise<void> {
  await db.update(imports).set({ status, ...(run ?? {}) }).where(eq(imports.id, id));
}

/**
 * Moves a picked-up file's plan from step `from` to the next; false when another delivery
 * of the step moved it first (or the plan ended).
 */
export async function advancePlanStep(db: Db, id: string, from: number, now = Date.now()): Promise<boolean> {
  const moved = await db
    .update(imports)
    .set({ planStep: from + 1, planMovedAt: now })
    .where(and(eq(imports.id, id), eq(imports.planStep, from), eq(imports.status, "uploaded")))
    .returning({ id: imports.id });
  return moved.length > 0;
}

/** The statement of setImportStatus, for a batch. */
export function importStatusStatement(db: Db, runId: string, status: ImportRow["status"]) {
  return db.update(imports).set({ status }).where(eq(imports.runId, runId));
}

/** The import a run applies, or null. */
export async function importOfRun(db: Db, tenantId: string, runId: string): Promise<ImportRow | null> {
  const [row] = await db.select().from(imports).where(and(eq(imports.tenantId, tenantId), eq(imports.runId, runId))).limit(1);
  return row ?? null;
}

const SavedMapping = v.record(v.string(), v.nullable(v.string()));

/** The tenant's saved mapping for scheduled pickup, or null. */
export async function getSavedMapping(db: Db, tenantId: string): Promise<{ mapping: Record<string, string | null>; mode: "partial" | "full"; maxDisablePercent: number } | null> {
  const [row] = await db.select().from(importMappings).where(eq(importMappings.tenantId, tenantId)).limit(1);
  return row ? { mapping: v.parse(SavedMapping, JSON.parse(row.mapping)), mode: row.mode, maxDisablePercent: row.maxDisablePercent } : null;
}

export async function saveMapping(db: Db, tenantId: string, saved: { mapping: Record<string, string | null>; mode: "partial" | "full"; maxDisablePercent: number }): Promise<void> {
  const values = { mapping: JSON.stringify(saved.mapping), mode: saved.mode, maxDisablePercent: saved.maxDisablePercent, updatedAt: Date.now() };
  await db.insert(importMappings).values({ tenantId, ...values }).onConflictDoUpdate({ target: importMappings.tenantId, set: values });
}

/** Picked-up files still being planned whose plan has not moved on since `before`: their step's message was lost. */
export function stalledPlans(db: Db, before: number, limit = 100): Promise<ImportRow[]> {
  return db
    .select()
    .from(imports)
    .where(and(eq(imports.status, "uploaded"), isNotNull(imports.planStep), lt(imports.planMovedAt, before)))
    .limit(limit);
}

/** Notes that a stalled plan's step was sent again, so the next tick waits as long again. */
export async function touchPlan(db: Db, id: string, now: number): Promise<void> {
  await db.update(imports).set({ planMovedAt: now }).where(eq(imports.id, id));
}

export type ImportLocationRow = typeof importLocations.$inferSelect;

/** The tenant's pickup location (its secret sealed), or null. */
export async function getLocation(db: Db, tenantId: string): Promise<ImportLocationRow | null> {
  const [row] = await db.select().from(importLocations).where(eq(importLocations.tenantId, tenantId)).limit(1);
  return row ?? null;
}

/** Sets the tenant's pickup location; it is looked at on the next tick. */
export async function putLocation(db: Db, row: Omit<ImportLocationRow, "lastPickupAt" | "lastError">): Promise<void> {
  const values = { ...row, lastError: null };
  await db.insert(importLocations).values(values).onConflictDoUpdate({ target: importLocations.tenantId, set: values });
}

export async function deleteLocation(db: Db, tenantId: string): Promise<boolean> {
  const gone = await db.delete(importLocations).where(eq(importLocations.tenantId, tenantId)).returning({ tenantId: importLocations.tenantId });
  return gone.length > 0;
}

/**
 * The locations due at `now`, each claimed for this tick by moving its due time on (a
 * compare-and-set, so overlapping ticks look at a location once), at most `limit`.
 */
export async function claimDueLocations(db: Db, now: number, limit: number): Promise<ImportLocationRow[]> {
  const due = await db.select().from(importLocations).where(lte(importLocations.nextDueAt, now)).orderBy(asc(importLocations.nextDueAt)).limit(limit);
  const claimed: ImportLocationRow[] = [];
  for (const row of due) {
    const [won] = await db
      .update(importLocations)
      .set({ nextDueAt: now + row.everyMinutes * 60_000 })
      .where(and(eq(importLocations.tenantId, row.tenantId), eq(importLocations.nextDueAt, row.nextDueAt)))
      .returning();
    if (won) claimed.push(won);
  }
  return claimed;
}

/** What the location answered on this look: nothing wrong (null), or its refusal. */
export async function noteLocation(db: Db, tenantId: string, seen: { at: number; error: string | null }): Promise<void> {
  await db
    .update(importLocations)
    .set({ lastError: seen.error, ...(seen.error ? {} : { lastPickupAt: seen.at }) })
    .where(eq(importLocations.tenantId, tenantId));
}

/** Whether a picked-up file (by its claim key) was claimed before. */
export async function pickedUp(db: Db, pickupKey: string): Promise<ImportRow | null> {
  const [row] = await db.select().from(imports).where(eq(imports.pickupKey, pickupKey)).limit(1);
  return row ?? null;
}

/**
 * Imports still `applying` whose run ended (done, failed or cancelled, whichever way: a
 * cancel, a dead-lettered page): with the run's status. The cron ends them.
 */
export function importsOfEndedRuns(db: Db, limit = 100) {
  return db
    .select({ imp: imports, run: runs })
    .from(imports)
    .innerJoin(runs, eq(runs.id, imports.runId))
    .where(and(eq(imports.status, "applying"), sql`${runs.status} in ('done', 'failed', 'cancelled')`))
    .limit(limit);
}
