import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "./client";
import { directoryUsers, groupMembers, remoteGroups } from "./schema";

/** Each person's managed groups in an integration, as the hub last made them: user id → group names. */
export async function groupsOfPeople(db: Db, integrationId: string, userIds: string[]): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (let i = 0; i < userIds.length; i += 90) {
    const rows = await db
      .select({ userId: groupMembers.userId, name: groupMembers.groupName })
      .from(groupMembers)
      .where(and(eq(groupMembers.integrationId, integrationId), inArray(groupMembers.userId, userIds.slice(i, i + 90))));
    for (const r of rows) out.set(r.userId, (out.get(r.userId) ?? new Set()).add(r.name));
  }
  return out;
}

/** The provider's ids of an integration's managed groups, by name (an empty id: a create is under way). */
export async function groupsByName(db: Db, integrationId: string, names: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < names.length; i += 90) {
    const rows = await db
      .select()
      .from(remoteGroups)
      .where(and(eq(remoteGroups.integrationId, integrationId), inArray(remoteGroups.name, names.slice(i, i + 90))));
    for (const r of rows) out.set(r.name, r.remoteId);
  }
  return out;
}

/** Every managed group of an integration, with how many people the hub put in it. */
export async function groupsOfIntegration(db: Db, integrationId: string) {
  return db
    .select({ name: remoteGroups.name, remoteId: remoteGroups.remoteId, createdAt: remoteGroups.createdAt, members: sql<number>`(select count(*) from ${groupMembers} where ${groupMembers.integrationId} = ${remoteGroups.integrationId} and ${groupMembers.groupName} = ${remoteGroups.name})` })
    .from(remoteGroups)
    .where(eq(remoteGroups.integrationId, integrationId))
    .orderBy(remoteGroups.name);
}

/**
 * Claims the creation of a group: true for the one caller who may create it (the row is
 * new, or an earlier claim was left unfinished for `staleMs`). The others wait for its id.
 */
export async function claimGroup(db: Db, group: { tenantId: string; integrationId: string; name: string }, now: number, staleMs: number): Promise<boolean> {
  const inserted = await db.insert(remoteGroups).values({ ...group, remoteId: "", createdAt: now }).onConflictDoNothing().returning({ name: remoteGroups.name });
  if (inserted.length) return true;
  const retaken = await db
    .update(remoteGroups)
    .set({ createdAt: now })
    .where(and(eq(remoteGroups.integrationId, group.integrationId), eq(remoteGroups.name, group.name), eq(remoteGroups.remoteId, ""), lt(remoteGroups.createdAt, now - staleMs)))
    .returning({ name: remoteGroups.name });
  return retaken.length > 0;
}

/** Records the id of a group the hub created. */
/** A group the provider already has (made by hand, or by a create whose answer was lost): its id is used from now on. */
export async function adoptGroup(db: Db, group: { tenantId: string; integrationId: string; name: string }, remoteId: string, now: number): Promise<void> {
  await db.insert(remoteGroups).values({ ...group, remoteId, createdAt: now }).onConflictDoUpdate({ target: [remoteGroups.integrationId, remoteGroups.name], set: { remoteId } });
}

export async function setGroupId(db: Db, integrationId: string, name: string, remoteId: string): Promise<void> {
  await db.update(remoteGroups).set({ remoteId }).where(and(eq(remoteGroups.integrationId, integrationId), eq(remoteGroups.name, name)));
}

/** Memberships made and ended at the provider, written together. */
export function membershipStatements(db: Db, integration: { tenantId: string; id: string }, added: { userId: string; name: string }[], removed: { userId: string; name: string }[], now: number): BatchItem<"sqlite">[] {
  const out: BatchItem<"sqlite">[] = [];
  for (let i = 0; i < added.length; i += 15) {
    out.push(
      db
        .insert(groupMembers)
        .values(added.slice(i, i + 15).map((a) => ({ tenantId: integration.tenantId, integrationId: integration.id, userId: a.userId, groupName: a.name, addedAt: now })))
        .onConflictDoNothing(),
    );
  }
  for (const r of removed) {
    out.push(db.delete(groupMembers).where(and(eq(groupMembers.integrationId, integration.id), eq(groupMembers.userId, r.userId), eq(groupMembers.groupName, r.name))));
  }
  return out;
}

/** Forgets the memberships of people removed from the provider (their groups went with them), 90 people a statement. */
export function forgetMembershipsStatements(db: Db, integrationId: string, userIds: string[]): BatchItem<"sqlite">[] {
  const out: BatchItem<"sqlite">[] = [];
  for (let i = 0; i < userIds.length; i += 90) out.push(db.delete(groupMembers).where(and(eq(groupMembers.integrationId, integrationId), inArray(groupMembers.userId, userIds.slice(i, i + 90)))));
  return out;
}

/** The column or JSON path that holds a directory field (`attributes.<name>` included). */
function fieldExpression(field: string) {
  const columns: Record<string, unknown> = { id: directoryUsers.id, email: directoryUsers.email, firstName: directoryUsers.firstName, lastName: directoryUsers.lastName, status: directoryUsers.status };
  if (field in columns) return sql`${columns[field]}`;
  const path = field.startsWith("attributes.") ? `$.attributes."${field.slice("attributes.".length).replace(/"/g, "")}"` : `$.${field.replace(/[^A-Za-z]/g, "")}`;
  return sql`json_extract(${directoryUsers.profile}, ${path})`;
}

/** How many active people of a tenant hold each value of a field (a group rule's preview), largest first. */
export async function valueCounts(db: Db, tenantId: string, field: string, limit = 200): Promise<{ value: string; people: number }[]> {
  const value = fieldExpression(field);
  const rows = await db
    .select({ value: sql<string>`trim(${value})`, people: sql<number>`count(*)` })
    .from(directoryUsers)
    .where(and(eq(directoryUsers.tenantId, tenantId), eq(directoryUsers.status, "active"), sql`coalesce(trim(${value}), '') != ''`))
    .groupBy(sql`trim(${value})`)
    .orderBy(sql`count(*) desc`, sql`trim(${value})`)
    .limit(limit);
  return rows.map((r) => ({ value: String(r.value), people: Number(r.people) }));
}
