import { and, desc, eq, inArray, sql } from "drizzle-orm";
import * as v from "valibot";
import type { Db } from "./client";
import { directoryUsers, imports, type DirectoryUserRow, type ImportRow } from "./schema";

const Headers = v.array(v.string());

/** An import's header row (its JSON column, checked). */
export function importHeaders(row: ImportRow): string[] {
  return v.parse(Headers, JSON.parse(row.headers));
}

export async function insertImport(db: Db, row: Omit<ImportRow, "runId" | "status">): Promise<ImportRow> {
  const full: ImportRow = { ...row, status: "uploaded", runId: null };
  await db.insert(imports).values(full);
  return full;
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

