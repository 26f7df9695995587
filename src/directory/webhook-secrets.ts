import type { Db } from "../db/client";
import { validSecrets } from "../db/tenants.repo";

/** How long an isolate trusts its copy of a tenant's webhook secrets. */
export const SECRETS_TTL_MS = 10_000;

interface Entry {
  loadedAt: number;
  secrets: { value: string; expiresAt: number | null }[];
}

const cache = new Map<string, Entry>();

/**
 * The tenant's webhook secrets valid now. They are read from D1 at most every 10 s per
 * isolate, and again whenever a signature matches none of the cached ones, so a secret
 * issued by a rotation works on its first use; a secret's expiry is honoured from the
 * copy. An unknown tenant has none, and is cached as such.
 */
export async function webhookSecrets(db: Db, encryptionKey: string, tenantId: string, opts: { refresh?: boolean; now?: number } = {}) {
  const now = opts.now ?? Date.now();
  let entry = cache.get(tenantId);
  const fromCache = !opts.refresh && entry !== undefined && now - entry.loadedAt < SECRETS_TTL_MS;
  if (!fromCache) {
    entry = { loadedAt: now, secrets: await validSecrets(db, encryptionKey, tenantId, "webhook", now) };
    if (cache.size > 10_000) cache.clear();
    cache.set(tenantId, entry);
  }
  const secrets = entry!.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => s.value);
  return { secrets, fromCache };
}

/** Forgets a tenant's cached secrets (after a rotation in this isolate). */
export function forgetWebhookSecrets(tenantId: string): void {
  cache.delete(tenantId);
}
