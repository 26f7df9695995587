import { and, desc, eq, inArray, sql } from "drizzle-orm";
import * as v from "valibot";
import type { Db } from "./client";
import { directoryUsers, importMappings, imports, type DirectoryUserRow, type ImportRow } from "./schema";

const Headers = v.array(v.string());

/** An import's header row (its JSON column, checked). */
export function importHeaders(row: ImportRow): string[] {
  return v.parse(Headers, JSON.parse(row.headers));
}

export async function insertImport(db: Db, row: Omit<ImportRow, "runId" | "status" | "pickupKey">): Promise<ImportRow> {
  const full: ImportRow = { ...row, status: "uploaded", runId: null, pickupKey: null };
  await db.insert(imports).values(full);
  return full;
}

/**
 * Claims a file of the R2 inbox for import: the row is inserted only if no tick claimed
 * the same file (key and etag) before. Null when another tick has it.
 */
export async function claimPickup(db: Db, row: Omit<ImportRow, "runId" | "status">): Promise<ImportRow | null> {
  const [claimed] = await db
    .insert(imports)
    .values({ ...row, status: "uploaded", runId: null })
    .onConflictDoNothing({ target: imports.pickupKey })
    .returning();
  return claimed ?? null;
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

/** Directory people of a tenant by id (at most 90 ids). */
export function peopleByIds(db: Db, tenantId: string, ids: string[]): Promise<DirectoryUserRow[]> {
  if (!ids.length) return Promise.resolve([]);
  return db.select().from(directoryUsers).where(and(eq(directoryUsers.tenantId, tenantId), inArray(directoryUsers.id, ids.slice(0, 90))));
}

/** Directory people of a tenant by exact e-mail (at most 90). */
export function peopleByEmails(db: Db, tenantId: string, emails: string[]): Promise<DirectoryUserRow[]> {
  if (!emails.length) return Promise.resolve([]);
  return db.select().from(directoryUsers).where(and(eq(directoryUsers.tenantId, tenantId), inArray(directoryUsers.email, emails.slice(0, 90))));
}

/** How many of the tenant's people are active. */
export async function activePeopleCount(db: Db, tenantId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)` }).from(directoryUsers).where(and(eq(directoryUsers.tenantId, tenantId), eq(directoryUsers.status, "active")));
  return row?.n ?? 0;
}


/** A page of the tenant's active people's ids, in id order, after `after`. */
export async function activePeopleIds(db: Db, tenantId: string, after: string | null, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: directoryUsers.id })
    .from(directoryUsers)
    .where(and(eq(directoryUsers.tenantId, tenantId), eq(directoryUsers.status, "active"), after !== null ? sql`${directoryUsers.id} > ${after}` : undefined))
    .orderBy(directoryUsers.id)
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Marks an import applying under its run, or ended (applied or failed). */
export async function setImportStatus(db: Db, id: string, status: ImportRow["status"], runId?: string): Promise<void> {
  await db.update(imports).set({ status, ...(runId ? { runId } : {}) }).where(eq(imports.id, id));
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

/** Where an import's file is now (a picked-up file moves to done/ or failed/). */
export async function setImportObject(db: Db, id: string, objectKey: string): Promise<void> {
  await db.update(imports).set({ objectKey }).where(eq(imports.id, id));
}
