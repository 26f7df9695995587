import type { BatchItem } from "drizzle-orm/batch";
import { connector, ProviderError, ReauthRequired } from "../connectors";
import type { AccessToken, TokenSet } from "../connectors/contract";
import { logger } from "../lib/log";
import { insertEventsStatements } from "../db/events.repo";
import { eventRows, queueEvents } from "../events/emit";
import type { Db } from "../db/client";
import { updateIntegrationStatement, type IntegrationChanges } from "../db/integrations.repo";
import { type Integration } from "./store";
import { failOpenRunsStatement } from "../db/runs.repo";
import { deleteCredentialsStatement, readCredentials, saveRefreshedToken, setLeaseStatement, takeRefreshLease, type SealedTokens, type StoredCredentials } from "../db/credentials.repo";

export { storeCredentialsStatement } from "../db/credentials.repo";
import type { Env } from "../env";
import { decrypt, encrypt } from "../lib/crypto";
import { randomToken } from "../lib/ids";
import { settings } from "../settings";

/** A token this close to its expiry is refreshed before use. */
const EARLY_REFRESH_MS = 60_000;
/** How long one refresh may hold the lease before another caller may take over. */
const LEASE_MS = 30_000;
/** How long a caller waits for someone else's refresh before giving up (retry later). */
const WAIT_MS = 15_000;

function aad(integrationId: string, which: "access" | "refresh"): string {
  return `integration_credentials:${integrationId}:${which}`;
}

/** Encrypts a token set into the credentials row's columns. */
export async function sealTokens(env: Env, integrationId: string, tokens: TokenSet): Promise<SealedTokens> {
  return {
    accessTokenEnc: await encrypt(env.ENCRYPTION_KEY, tokens.accessToken, aad(integrationId, "access")),
    refreshTokenEnc: tokens.refreshToken ? await encrypt(env.ENCRYPTION_KEY, tokens.refreshToken, aad(integrationId, "refresh")) : null,
    accessExpiresAt: tokens.expiresAt,
  };
}

/** The stored refresh token, decrypted, or null. */
export async function refreshTokenOf(db: Db, env: Env, integration: Integration): Promise<string | null> {
  const row = await readCredentials(db, integration);
  return row?.refreshTokenEnc ? decrypt(env.ENCRYPTION_KEY, row.refreshTokenEnc, aad(integration.id, "refresh")) : null;
}

/** The lease id that holds token refreshes back until `lease_until`. */
const HELD = "held";


/**
 * A valid access token for a connector. Refreshing is shared per integration: the caller
 * that wins the lease (an atomic UPDATE in D1) refreshes and writes the new token once;
 * every other caller waits for it. So a burst of jobs after expiry causes one refresh —
 * Zoho allows 10 per refresh token per 10 minutes. `rejectedVersion` forces a refresh of
 * a token the provider refused, unless someone has replaced it already.
 *
 * A refresh token the provider rejects sends the integration back to `pending` with the
 * action `reconnect` and throws ReauthRequired.
 */
export async function getAccessToken(db: Db, env: Env, integration: Integration, opts: { rejectedVersion?: number } = {}): Promise<AccessToken> {
  const deadline = Date.now() + WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    const row = await readCredentials(db, integration);
    if (!row) throw new ReauthRequired("The integration is not connected.");
    const now = Date.now();
    // A refresh held back (the provider throttles, or refused the hub's settings): no caller
    // waits for it or asks again before the time it names.
    if (row.leaseId === HELD && row.leaseUntil && row.leaseUntil > now) {
      throw new ProviderError("retryAfter", "Token refresh is held back after the provider throttled it.", row.leaseUntil - now);
    }
    const stale = opts.rejectedVersion !== undefined && row.tokenVersion <= opts.rejectedVersion;
    if (!stale && row.accessExpiresAt > now + EARLY_REFRESH_MS) {
      return { token: await decrypt(env.ENCRYPTION_KEY, row.accessTokenEnc, aad(integration.id, "access")), version: row.tokenVersion };
    }
    const leaseId = randomToken(16);
    if (await takeRefreshLease(db, integration.id, row, leaseId, now, now + LEASE_MS)) return refreshWithLease(db, env, integration, row, leaseId);
    if (Date.now() > deadline) throw new ProviderError("transient", "Another refresh of this integration's token is taking long.", 5_000);
    // Someone else is refreshing: wait for their token.
    await new Promise((r) => setTimeout(r, 100 + Math.min(attempt, 10) * 20 + Math.random() * 50));
  }
}

async function refreshWithLease(db: Db, env: Env, integration: Integration, row: StoredCredentials, leaseId: string): Promise<AccessToken> {
  const release = () => setLeaseStatement(db, integration.id, leaseId, { leaseId: null, leaseUntil: null });
  // What is refused is this connection's: a reconnect stored since keeps its credentials.
  const ofThisConnection = { ...integration, connectionVersion: row.connectionVersion };
  const reconnectNeeded = async (reason: string) => {
    if (await markReconnect(db, env, ofThisConnection, reason)) return new ReauthRequired(reason);
    return new ProviderError("transient", "The integration was reconnected while its old token was refused; the new one is used.", 0);
  };
  if (!row.refreshTokenEnc || !row.connection) throw await reconnectNeeded("No refresh token is stored; reconnect the integration.");
  const def = connector(integration.provider);
  const refreshToken = await decrypt(env.ENCRYPTION_KEY, row.refreshTokenEnc, aad(integration.id, "refresh"));
  let tokens: TokenSet;
  try {
    tokens = await def.oauth.refresh({ env, settings: settings(env), redirectUri: "" }, { connection: row.connection, refreshToken });
  } catch (err) {
    if (err instanceof ProviderError && err.kind === "reauth") throw await reconnectNeeded(err.detail);
    if (err instanceof ProviderError && err.retryAfterMs && (err.kind === "config" || err.kind === "retryAfter")) {
      // The credentials stay and the integration pauses with the reason. Throttled: the
      // lease is held until the time the provider named, so that no caller asks again in
      // the window. The hub's own settings refused: released, so that a fixed secret
      // works at once for whoever asks next.
      const until = Date.now() + err.retryAfterMs;
      const lease = err.kind === "config" ? { leaseId: null, leaseUntil: null } : { leaseId: HELD, leaseUntil: until };
      await db.batch([
        setLeaseStatement(db, integration.id, leaseId, lease),
        updateIntegrationStatement(db, integration.tenantId, integration.id, { pausedUntil: until, lastError: err.detail }),
      ]);
      throw new ProviderError(err.kind, err.detail, err.retryAfterMs);
    }
    await release();
    throw err;
  }
  const sealed = await sealTokens(env, integration.id, { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken });
  const saved = await saveRefreshedToken(db, integration.id, leaseId, sealed, Boolean(tokens.refreshToken));
  if (saved === null) throw new ProviderError("transient", "The refresh lease expired before the new token was stored.", 1_000);
  return { token: tokens.accessToken, version: saved };
}


/**
 * The provider no longer accepts the refresh token: forget the credentials, and send the
 * integration back to `pending` with `reconnect` and the reason. Its jobs park (their
 * links stay `pending`) and run once it is reconnected. The `after` handler's
 * `integration.reconnect_required` is stored in the same batch (once per connection).
 */
export async function markReconnect(db: Db, env: Env, integration: Integration, reason: string): Promise<boolean> {
  const event = eventRows(integration, "integration.reconnect_required", [{ reason }], Date.now(), () => `evt_reconnect_${integration.id}_${integration.connectionVersion}`);
  if (!(await forgetConnection(db, integration, integration.connectionVersion, "reconnect", { lastError: reason }, insertEventsStatements(db, event)))) return false;
  logger({ tenantId: integration.tenantId, integrationId: integration.id }).warn("integration needs reconnecting", { reason });
  await queueEvents(env, event);
  return true;
}

/**
 * "This wasn't me": the person who consented says the connect was not theirs. The
 * connection of that connect (and only it: a later connect is another version) is
 * forgotten at once, its open runs end, and the integration waits for a connect; then the
 * grant is revoked at the provider. Answers false when a later connect replaced it, and
 * whether the provider confirmed the revoke.
 */
export async function disownConnection(db: Db, env: Env, integration: Integration, connectionVersion: number, reason: string): Promise<{ disowned: boolean; revoked: boolean }> {
  if (integration.connectionVersion !== connectionVersion || !integration.connection) return { disowned: false, revoked: false };
  const refreshToken = await refreshTokenOf(db, env, integration);
  const forgotten = await forgetConnection(db, integration, connectionVersion, "connect", { connection: null, lastError: reason }, [failOpenRunsStatement(db, integration.id, reason)]);
  if (!forgotten) return { disowned: false, revoked: false };
  logger({ tenantId: integration.tenantId, integrationId: integration.id }).warn("connection disowned");
  if (!refreshToken) return { disowned: true, revoked: true };
  try {
    await connector(integration.provider).oauth.revoke({ env, settings: settings(env), redirectUri: "" }, { connection: integration.connection, refreshToken });
    return { disowned: true, revoked: true };
  } catch (err) {
    if (err instanceof ProviderError) return { disowned: true, revoked: false };
    throw err;
  }
}

/**
 * Forgets one connection of an integration, in one batch: its credentials go and the
 * integration waits in `pending` for `action`, with `changes` (and `alongside`). Only that
 * connection version is touched: a connect stored since keeps its credentials and its
 * status. Answers whether anything was forgotten.
 */
async function forgetConnection(
  db: Db,
  integration: Integration,
  connectionVersion: number,
  action: "connect" | "reconnect",
  changes: IntegrationChanges,
  alongside: BatchItem<"sqlite">[] = [],
): Promise<boolean> {
  const pendingActions = [action, ...integration.pendingActions.filter((a) => a !== "connect" && a !== "reconnect")];
  const [forgotten] = await db.batch([
    deleteCredentialsStatement(db, integration.id, connectionVersion),
    updateIntegrationStatement(db, integration.tenantId, integration.id, { ...changes, status: "pending", pendingActions }, connectionVersion),
    ...alongside,
  ]);
  return forgotten.length > 0;
}
