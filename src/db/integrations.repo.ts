import { and, asc, eq, gt, isNotNull, isNull, like, lte, or, sql } from "drizzle-orm";
import * as v from "valibot";
import { ConnectionShape, type Connection } from "../lib/connection";
import { newId } from "../lib/ids";
import type { Db } from "./client";
import { directoryUsers, integrationCredentials, integrations, links, type IntegrationRow } from "./schema";

const Actions = v.array(v.string());
/** The stored config: the tenant's changes over the provider's defaults, checked and merged by integrations/. */
const StoredConfig = v.record(v.string(), v.unknown());

/** An integration row with its JSON columns parsed and checked (never cast). */
export interface IntegrationRecord extends Omit<IntegrationRow, "config" | "pendingActions" | "connection"> {
  config: Record<string, unknown>;
  pendingActions: string[];
  connection: Connection | null;
}

/** Parses a row's JSON columns. */
export function parseIntegrationRow(row: IntegrationRow): IntegrationRecord {
  return {
    ...row,
    config: v.parse(StoredConfig, JSON.parse(row.config)),
    pendingActions: v.parse(Actions, JSON.parse(row.pendingActions)),
    connection: row.connection ? parseConnection(row.connection) : null,
  };
}

/** A stored `connection` column, parsed. */
export function parseConnection(json: string): Connection {
  return v.parse(ConnectionShape, JSON.parse(json));
}

export async function insertIntegration(db: Db, input: { tenantId: string; provider: string; name: string; config: object; pendingActions: string[]; receivesPushes: boolean }): Promise<IntegrationRecord> {
  const now = Date.now();
  const row: IntegrationRow = {
    id: newId("int"),
    tenantId: input.tenantId,
    provider: input.provider,
    name: input.name,
    status: "pending",
    pendingActions: JSON.stringify(input.pendingActions),
    config: JSON.stringify(input.config),
    connection: null,
    connectionVersion: 0,
    lastError: null,
    pausedUntil: null,
    resyncDueAt: null,
    reconcileDueAt: null,
    pullDueAt: null,
    fullPullDueAt: null,
    pullCursor: null,
    sweptThrough: null,
    receivesPushes: input.receivesPushes,
    afterGoneStreak: 0,
    afterDisabledReason: null,
    createdAt: now,
    updatedAt: now,
  };
  await db.insert(integrations).values(row);
  return parseIntegrationRow(row);
}

/** One integration of a tenant, or null (another tenant's id is simply not found). */
export async function getIntegrationRecord(db: Db, tenantId: string, id: string): Promise<IntegrationRecord | null> {
  const [row] = await db
    .select()
    .from(integrations)
    .where(and(eq(integrations.tenantId, tenantId), eq(integrations.id, id)))
    .limit(1);
  return row ? parseIntegrationRow(row) : null;
}

export async function listIntegrationRecords(db: Db, tenantId: string, after: string | null, limit: number): Promise<IntegrationRecord[]> {
  const rows = await db
    .select()
    .from(integrations)
    .where(after ? and(eq(integrations.tenantId, tenantId), gt(integrations.id, after)) : eq(integrations.tenantId, tenantId))
    .orderBy(asc(integrations.id))
    .limit(limit + 1);
  return rows.map(parseIntegrationRow);
}

export type IntegrationChanges = Partial<{
  name: string;
  status: IntegrationRow["status"];
  pendingActions: string[];
  config: object;
  connection: Connection | null;
  lastError: string | null;
  pausedUntil: number | null;
  /** A source's next incremental and full pulls. */
  pullDueAt: number;
  fullPullDueAt: number;
  /** Deliveries to the `after` handler resume (its settings were saved again). */
  afterResumed: true;
}>;

function changesToColumns(changes: IntegrationChanges) {
  return {
    ...(changes.name !== undefined ? { name: changes.name } : {}),
    ...(changes.status !== undefined ? { status: changes.status } : {}),
    ...(changes.pendingActions !== undefined ? { pendingActions: JSON.stringify(changes.pendingActions) } : {}),
    ...(changes.config !== undefined ? { config: JSON.stringify(changes.config) } : {}),
    // A new connection is a new connection version (see the column); the credentials stored
    // in the same batch take that number.
    ...(changes.connection !== undefined
      ? { connection: changes.connection ? JSON.stringify(changes.connection) : null, connectionVersion: sql`${integrations.connectionVersion} + 1` }
      : {}),
    ...(changes.lastError !== undefined ? { lastError: changes.lastError } : {}),
    ...(changes.pausedUntil !== undefined ? { pausedUntil: changes.pausedUntil } : {}),
    ...(changes.pullDueAt !== undefined ? { pullDueAt: changes.pullDueAt } : {}),
    ...(changes.fullPullDueAt !== undefined ? { fullPullDueAt: changes.fullPullDueAt } : {}),
    ...(changes.afterResumed ? { afterGoneStreak: 0, afterDisabledReason: null } : {}),
    updatedAt: Date.now(),
  };
}

/**
 * The statement that updates an integration of a tenant (for batches). With
 * `ifConnectionVersion` it changes nothing once another connect has been stored.
 */
export function updateIntegrationStatement(db: Db, tenantId: string, id: string, changes: IntegrationChanges, ifConnectionVersion?: number) {
  return db
    .update(integrations)
    .set(changesToColumns(changes))
    .where(
      and(
        eq(integrations.tenantId, tenantId),
        eq(integrations.id, id),
        ifConnectionVersion === undefined ? undefined : eq(integrations.connectionVersion, ifConnectionVersion),
      ),
    );
}

/**
 * Keeps the org id the provider reported on the connection it was fetched for. Only that
 * key is written, and only while that connection is still the stored one: a job's older
 * copy of the integration never writes its connection back over a newer connect.
 */
export async function saveOrgId(db: Db, integration: Pick<IntegrationRecord, "tenantId" | "id" | "connectionVersion">, orgId: string): Promise<void> {
  await db
    .update(integrations)
    .set({ connection: sql`json_set(${integrations.connection}, '$.orgId', ${orgId})` })
    .where(
      and(eq(integrations.tenantId, integration.tenantId), eq(integrations.id, integration.id), eq(integrations.connectionVersion, integration.connectionVersion)),
    );
}

export async function updateIntegration(db: Db, tenantId: string, id: string, changes: IntegrationChanges): Promise<void> {
  await updateIntegrationStatement(db, tenantId, id, changes);
}

/**
 * Integrations that get push jobs: active ones, and ones waiting to be reconnected (their
 * jobs park and run after the reconnect). Deactivated and never-connected ones do not,
 * nor sources that only pull.
 */
export function receivesJobs() {
  return and(eq(integrations.receivesPushes, true), or(eq(integrations.status, "active"), and(eq(integrations.status, "pending"), like(integrations.pendingActions, '%"reconnect"%'))))!;
}

/**
 * Link counts by status, for the integration's `stats`. A deleted person's old failure
 * is nothing left to fix, so it does not count as `failed`.
 */
export async function linkStats(db: Db, integrationId: string) {
  const rows = await db
    .select({ status: links.status, n: sql<number>`count(*)` })
    .from(links)
    .leftJoin(directoryUsers, and(eq(directoryUsers.tenantId, links.tenantId), eq(directoryUsers.id, links.userId)))
    .where(and(eq(links.integrationId, integrationId), sql`not (${links.status} = 'failed' and coalesce(${directoryUsers.status}, 'deleted') = 'deleted')`))
    .groupBy(links.status);
  const stats = { synced: 0, pending: 0, invited: 0, failed: 0, excluded: 0, unmatched: 0 };
  for (const r of rows) stats[r.status] = Number(r.n);
  return stats;
}

/** Deletes an integration with its credentials and links, in one batch. */
export async function deleteIntegration(db: Db, tenantId: string, id: string): Promise<void> {
  await db.batch([
    db.delete(integrationCredentials).where(and(eq(integrationCredentials.tenantId, tenantId), eq(integrationCredentials.integrationId, id))),
    db.delete(links).where(and(eq(links.tenantId, tenantId), eq(links.integrationId, id))),
    db.delete(integrations).where(and(eq(integrations.tenantId, tenantId), eq(integrations.id, id))),
  ]);
}

/** Active, connected integrations that receive pushes, the least recently swept first (never swept before all), at most `limit`. */
export async function sweepRotation(db: Db, limit: number): Promise<IntegrationRecord[]> {
  const rows = await db
    .select()
    .from(integrations)
    .where(and(eq(integrations.status, "active"), eq(integrations.receivesPushes, true), isNotNull(integrations.connection)))
    .orderBy(asc(sql`coalesce(${integrations.sweptThrough}, 0)`), asc(integrations.id))
    .limit(limit);
  return rows.map(parseIntegrationRow);
}

/** Records that the sweep re-sent every person of the integration left behind up to `through`. */
export async function markSwept(db: Db, integrationId: string, through: number): Promise<void> {
  await db.update(integrations).set({ sweptThrough: through }).where(eq(integrations.id, integrationId));
}

/** Active integrations whose resync, reconciliation or pull is due at `now` (or never scheduled), at most `limit`. */
export async function dueIntegrationRecords(db: Db, now: number, limit: number): Promise<IntegrationRecord[]> {
  const rows = await db
    .select()
    .from(integrations)
    .where(
      and(
        eq(integrations.status, "active"),
        // Push integrations are due by their resync and reconciliation, the others (sources) by their pulls.
        or(
          and(
            eq(integrations.receivesPushes, true),
            or(isNull(integrations.resyncDueAt), lte(integrations.resyncDueAt, now), isNull(integrations.reconcileDueAt), lte(integrations.reconcileDueAt, now)),
          ),
          and(
            eq(integrations.receivesPushes, false),
            or(isNull(integrations.pullDueAt), lte(integrations.pullDueAt, now), isNull(integrations.fullPullDueAt), lte(integrations.fullPullDueAt, now)),
          ),
        ),
      ),
    )
    .limit(limit);
  return rows.map(parseIntegrationRow);
}

/** Moves a due time forward only if no one else did first (a compare-and-set): true when this caller did. */
export async function claimDueTime(db: Db, id: string, column: "resyncDueAt" | "reconcileDueAt" | "pullDueAt" | "fullPullDueAt", seen: number | null, next: number): Promise<boolean> {
  const res = await db
    .update(integrations)
    .set({ [column]: next })
    .where(and(eq(integrations.id, id), seen === null ? isNull(integrations[column]) : eq(integrations[column], seen)));
  return (res.meta.changes ?? 0) === 1;
}

/**
 * Counts the `after` receiver's answer: a 410 adds one to the streak, and the third in a
 * row stops deliveries with `reason`; any other answer resets the streak. Answers the
 * integration's delivery state after it.
 */
export async function countAfterAnswer(db: Db, integrationId: string, gone: boolean, reason: string): Promise<{ streak: number; disabledReason: string | null }> {
  const [row] = await db
    .update(integrations)
    .set(
      gone
        ? {
            afterGoneStreak: sql`${integrations.afterGoneStreak} + 1`,
            afterDisabledReason: sql`case when ${integrations.afterGoneStreak} + 1 >= ${AFTER_GONE_LIMIT} then coalesce(${integrations.afterDisabledReason}, ${reason}) else ${integrations.afterDisabledReason} end`,
          }
        : { afterGoneStreak: 0 },
    )
    .where(eq(integrations.id, integrationId))
    .returning({ streak: integrations.afterGoneStreak, disabledReason: integrations.afterDisabledReason });
  return row ?? { streak: 0, disabledReason: null };
}

/** `410 Gone` answers in a row after which deliveries to an `after` handler stop. */
export const AFTER_GONE_LIMIT = 3;
