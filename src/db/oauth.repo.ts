import { and, eq, gt, isNull, lt } from "drizzle-orm";
import type { Db } from "./client";
import { oauthStates, ssoTokenUses, type OAuthStateRow } from "./schema";

/** Stores the nonce of a new OAuth state (and its PKCE verifier, encrypted). */
export async function insertOAuthState(db: Db, row: { nonce: string; tenantId: string; integrationId: string; codeVerifierEnc: string | null; expiresAt: number }): Promise<void> {
  await db.insert(oauthStates).values({ ...row, usedAt: null });
}

/** Marks a state used, once: its row, or null when it was used already or has expired. */
export async function useOAuthState(db: Db, tenantId: string, nonce: string, now: number): Promise<OAuthStateRow | null> {
  const [row] = await db
    .update(oauthStates)
    .set({ usedAt: now })
    .where(and(eq(oauthStates.nonce, nonce), eq(oauthStates.tenantId, tenantId), isNull(oauthStates.usedAt), gt(oauthStates.expiresAt, now)))
    .returning();
  return row ?? null;
}

/** Housekeeping: states past their expiry. */
export async function deleteExpiredStates(db: Db, now = Date.now()): Promise<number> {
  const res = await db.delete(oauthStates).where(lt(oauthStates.expiresAt, now));
  return res.meta.changes ?? 0;
}

/** Records a sign-in token's `jti`; false when it was recorded before (a replay). */
export async function useSignInToken(db: Db, tenantId: string, jti: string, expiresAt: number): Promise<boolean> {
  const rows = await db.insert(ssoTokenUses).values({ tenantId, jti, expiresAt }).onConflictDoNothing().returning({ jti: ssoTokenUses.jti });
  return rows.length === 1;
}
