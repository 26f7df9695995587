import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "./client";
import { parseConnection } from "./integrations.repo";
import { integrationCredentials, integrations } from "./schema";

type Scope = { tenantId: string; id: string };

/** The encrypted columns of a token set. */
export interface SealedTokens {
  accessTokenEnc: string;
  refreshTokenEnc: string | null;
  accessExpiresAt: number;
}

/**
 * The statement that stores fresh credentials after a (re)connect, for a batch. Not
 * async: a drizzle query is thenable, so returning it from an async function would run it.
 */
export function storeCredentialsStatement(db: Db, integration: Scope, sealed: SealedTokens) {
  const now = Date.now();
  // Placed after the statement that stores the connection: these credentials take the
  // connection version that statement has just counted.
  const connectionVersion = sql<number>`(SELECT ${integrations.connectionVersion} FROM ${integrations} WHERE ${integrations.id} = ${integration.id})`;
  return db
    .insert(integrationCredentials)
    .values({ integrationId: integration.id, tenantId: integration.tenantId, ...sealed, connectionVersion, tokenVersion: 1, leaseId: null, leaseUntil: null, updatedAt: now })
    .onConflictDoUpdate({
      target: integrationCredentials.integrationId,
      set: { ...sealed, connectionVersion, tokenVersion: 1, leaseId: null, leaseUntil: null, updatedAt: now },
    });
}

/**
 * The credentials with the connection they belong to, read together: a refresh goes to the
 * accounts server of the stored connection, never to that of a job's older copy.
 */
export async function readCredentials(db: Db, integration: Scope) {
  const [row] = await db
    .select({ credentials: integrationCredentials, connection: integrations.connection })
    .from(integrationCredentials)
    .innerJoin(integrations, and(eq(integrations.id, integrationCredentials.integrationId), eq(integrations.connectionVersion, integrationCredentials.connectionVersion)))
    .where(and(eq(integrationCredentials.integrationId, integration.id), eq(integrationCredentials.tenantId, integration.tenantId)))
    .limit(1);
  return row ? { ...row.credentials, connection: row.connection ? parseConnection(row.connection) : null } : null;
}

export type StoredCredentials = NonNullable<Awaited<ReturnType<typeof readCredentials>>>;

/**
 * Takes the refresh lease (an atomic UPDATE) for the token and connection versions read,
 * when no one holds it: true when this caller won it.
 */
export async function takeRefreshLease(db: Db, integrationId: string, read: { tokenVersion: number; connectionVersion: number }, leaseId: string, now: number, until: number): Promise<boolean> {
  const [won] = await db
    .update(integrationCredentials)
    .set({ leaseId, leaseUntil: until })
    .where(
      and(
        eq(integrationCredentials.integrationId, integrationId),
        eq(integrationCredentials.tokenVersion, read.tokenVersion),
        eq(integrationCredentials.connectionVersion, read.connectionVersion),
        or(isNull(integrationCredentials.leaseUntil), lt(integrationCredentials.leaseUntil, now)),
      ),
    )
    .returning({ version: integrationCredentials.tokenVersion });
  return won !== undefined;
}

/** Sets the lease of the holder of `leaseId`: released (nulls), or held until a time. */
export function setLeaseStatement(db: Db, integrationId: string, leaseId: string, lease: { leaseId: string | null; leaseUntil: number | null }) {
  return db.update(integrationCredentials).set(lease).where(and(eq(integrationCredentials.integrationId, integrationId), eq(integrationCredentials.leaseId, leaseId)));
}

/** Stores a refreshed token under the lease, counting a new token version; null when the lease was lost. */
export async function saveRefreshedToken(db: Db, integrationId: string, leaseId: string, sealed: SealedTokens, rotated: boolean): Promise<number | null> {
  const [saved] = await db
    .update(integrationCredentials)
    .set({
      accessTokenEnc: sealed.accessTokenEnc,
      accessExpiresAt: sealed.accessExpiresAt,
      ...(rotated ? { refreshTokenEnc: sealed.refreshTokenEnc } : {}),
      tokenVersion: sql`${integrationCredentials.tokenVersion} + 1`,
      leaseId: null,
      leaseUntil: null,
      updatedAt: Date.now(),
    })
    .where(and(eq(integrationCredentials.integrationId, integrationId), eq(integrationCredentials.leaseId, leaseId)))
    .returning({ version: integrationCredentials.tokenVersion });
  return saved?.version ?? null;
}

/** Deletes the credentials of one connection version (for a batch); returns the integration id when it did. */
export function deleteCredentialsStatement(db: Db, integrationId: string, connectionVersion: number) {
  return db
    .delete(integrationCredentials)
    .where(and(eq(integrationCredentials.integrationId, integrationId), eq(integrationCredentials.connectionVersion, connectionVersion)))
    .returning({ id: integrationCredentials.integrationId });
}
