import { and, eq, gt, isNull, or } from "drizzle-orm";
import { decrypt, encrypt, newSecret, sha256Hex } from "../lib/crypto";
import { toBase64 } from "../lib/encoding";
import { newId } from "../lib/ids";
import type { Db } from "./client";
import { apiKeys, tenantSecrets, tenants, type Tenant } from "./schema";

export type SecretKind = "webhook" | "sso" | "event";

/** How long a rotated secret keeps working, so senders can switch without downtime. */
export const ROTATION_GRACE_MS: Record<SecretKind | "apiKey", number> = {
  webhook: 24 * 60 * 60 * 1000,
  // Events are signed with every valid event secret during the grace, so receivers can switch.
  event: 24 * 60 * 60 * 1000,
  // SSO tokens live at most 5 minutes; a leaked SSO secret must stop working at once.
  sso: 0,
  // The caller holds the new key in the same answer that retires the old one.
  apiKey: 0,
};

/** Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

function secretAad(tenantId: string, kind: SecretKind): string {
  return `tenant_secrets:${tenantId}:${kind}`;
}

export interface CreatedTenant {
  tenant: Tenant;
  apiKey: string;
  webhookSecret: string;
  ssoSecret: string;
  eventSecret: string;
}

/** Creates a tenant with a first API key, webhook secret, SSO secret and event secret, in one batch. */
export async function createTenant(db: Db, encryptionKey: string, name: string, now = Date.now()): Promise<CreatedTenant> {
  const tenant: Tenant = { id: newId("ten"), name, signInUrl: null, providers: null, createdAt: now };
  const apiKey = newSecret("usk_");
  const webhookSecret = newWebhookSecret();
  const ssoSecret = newSecret("sso_");
  const eventSecret = newWebhookSecret();
  await db.batch([
    db.insert(tenants).values(tenant),
    db.insert(apiKeys).values(await apiKeyRow(tenant.id, apiKey, now)),
    db.insert(tenantSecrets).values(await secretRow(encryptionKey, tenant.id, "webhook", webhookSecret, now)),
    db.insert(tenantSecrets).values(await secretRow(encryptionKey, tenant.id, "sso", ssoSecret, now)),
    db.insert(tenantSecrets).values(await secretRow(encryptionKey, tenant.id, "event", eventSecret, now)),
  ]);
  return { tenant, apiKey, webhookSecret, ssoSecret, eventSecret };
}

async function apiKeyRow(tenantId: string, key: string, now: number) {
  return {
    id: newId("key"),
    tenantId,
    keyHash: await sha256Hex(key),
    keyPrefix: key.slice(0, 8),
    createdAt: now,
    expiresAt: null,
  };
}

async function secretRow(encryptionKey: string, tenantId: string, kind: SecretKind, value: string, now: number) {
  return {
    id: newId("key"),
    tenantId,
    kind,
    valueEnc: await encrypt(encryptionKey, value, secretAad(tenantId, kind)),
    createdAt: now,
    expiresAt: null,
  };
}

/** The tenant owning an API key that has not expired, or null. */
export async function findTenantByApiKey(db: Db, key: string, now: number) {
  const rows = await db
    .select({ tenant: tenants, keyId: apiKeys.id })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(and(eq(apiKeys.keyHash, await sha256Hex(key)), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now))))
    .limit(1);
  return rows[0] ?? null;
}

/** Changes a tenant's name or sign-in page; answers the tenant as it is now. */
export async function updateTenant(db: Db, tenantId: string, changes: { name?: string; signInUrl?: string | null }): Promise<Tenant | null> {
  const set = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
  if (Object.keys(set).length) await db.update(tenants).set(set).where(eq(tenants.id, tenantId));
  return findTenant(db, tenantId);
}

/** Sets the providers the tenant may enable (null: all of them); answers the tenant, or null when there is none. */
export async function setTenantProviders(db: Db, tenantId: string, providers: readonly string[] | null): Promise<Tenant | null> {
  await db.update(tenants).set({ providers: providers === null ? null : JSON.stringify(providers) }).where(eq(tenants.id, tenantId));
  return findTenant(db, tenantId);
}

/** A tenant by id, or null. */
export async function findTenant(db: Db, tenantId: string): Promise<Tenant | null> {
  const rows = await db.select().from(tenants).where(eq(tenants.id, tenantId)).limit(1);
  return rows[0] ?? null;
}

const opened = new Map<string, Promise<string>>();

/**
 * Decrypts one stored secret of a tenant. A ciphertext never changes, so its plaintext is
 * kept in memory for the isolate's life (bounded); whether it is still valid is decided
 * by the caller's query on every request.
 */
export function openSecret(encryptionKey: string, tenantId: string, kind: SecretKind, valueEnc: string): Promise<string> {
  const cacheKey = `${tenantId}:${kind}:${valueEnc}`;
  let value = opened.get(cacheKey);
  if (!value) {
    value = decrypt(encryptionKey, valueEnc, secretAad(tenantId, kind));
    value.catch(() => opened.delete(cacheKey));
    if (opened.size > 10_000) opened.clear();
    opened.set(cacheKey, value);
  }
  return value;
}

/** The secrets of a kind that are valid at `now`, decrypted, newest first, with their expiry. */
export async function validSecrets(db: Db, encryptionKey: string, tenantId: string, kind: SecretKind, now = Date.now()) {
  const rows = await db
    .select()
    .from(tenantSecrets)
    .where(
      and(
        eq(tenantSecrets.tenantId, tenantId),
        eq(tenantSecrets.kind, kind),
        or(isNull(tenantSecrets.expiresAt), gt(tenantSecrets.expiresAt, now)),
      ),
    );
  rows.sort((a, b) => b.createdAt - a.createdAt);
  return Promise.all(
    rows.map(async (r) => ({ value: await openSecret(encryptionKey, tenantId, kind, r.valueEnc), expiresAt: r.expiresAt })),
  );
}

export type RotateWhich = "apiKey" | "webhookSecret" | "ssoSecret" | "eventSecret";

const KIND_OF: Record<Exclude<RotateWhich, "apiKey">, SecretKind> = { webhookSecret: "webhook", ssoSecret: "sso", eventSecret: "event" };

/**
 * Issues a new secret; the previous ones stay valid for ROTATION_GRACE_MS of their kind.
 * A tenant created before event secrets existed gets its first one this way.
 */
export async function rotateSecret(db: Db, encryptionKey: string, tenantId: string, which: RotateWhich, now = Date.now()) {
  if (which === "apiKey") {
    const value = newSecret("usk_");
    const until = now + ROTATION_GRACE_MS.apiKey;
    await db.batch([
      db
        .update(apiKeys)
        .set({ expiresAt: until })
        .where(and(eq(apiKeys.tenantId, tenantId), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, until)))),
      db.insert(apiKeys).values(await apiKeyRow(tenantId, value, now)),
    ]);
    return { value, previousValidUntil: until };
  }
  const kind = KIND_OF[which];
  const value = kind === "sso" ? newSecret("sso_") : newWebhookSecret();
  const until = now + ROTATION_GRACE_MS[kind];
  await db.batch([
    db
      .update(tenantSecrets)
      .set({ expiresAt: until })
      .where(
        and(
          eq(tenantSecrets.tenantId, tenantId),
          eq(tenantSecrets.kind, kind),
          or(isNull(tenantSecrets.expiresAt), gt(tenantSecrets.expiresAt, until)),
        ),
      ),
    db.insert(tenantSecrets).values(await secretRow(encryptionKey, tenantId, kind, value, now)),
  ]);
  return { value, previousValidUntil: until };
}
