import { jwtVerify, SignJWT } from "jose";
import { connectScopes, connector } from "../connectors";
import type { Db } from "../db/client";
import type { Integration } from "./store";
import { assertIntegrationAllowed } from "./allowed";
import { insertOAuthState, useOAuthState } from "../db/oauth.repo";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { decrypt, encrypt } from "../lib/crypto";
import { toBase64Url, utf8 } from "../lib/encoding";
import { randomToken } from "../lib/ids";
import { settings } from "../settings";

/** Where a connect was started: the API's authorize URL, or the dashboard's `/connect/{id}`. */
export type ConnectVia = "api" | "dashboard";

/** API.md: the state expires after 10 minutes and is single-use. */
export const STATE_TTL_S = 10 * 60;
const AUDIENCE = "usersync:oauth-state";

function key(env: Env): Uint8Array {
  return utf8(env.SESSION_SECRET);
}

/** PKCE (RFC 7636): a verifier and its S256 challenge. */
async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(verifier)));
  return { verifier, challenge: toBase64Url(digest) };
}

/**
 * A signed `state` (jose, HS256, SESSION_SECRET) naming the integration and tenant with a
 * nonce. The nonce row makes it single-use; the PKCE verifier stays in D1 (encrypted),
 * never in the browser.
 */
export async function createState(db: Db, env: Env, input: { tenantId: string; integrationId: string; pkce: boolean; via: ConnectVia; boundTo?: string }) {
  const nonce = randomToken(26);
  const now = Date.now();
  const pair = input.pkce ? await pkcePair() : null;
  await insertOAuthState(db, {
    nonce,
    tenantId: input.tenantId,
    integrationId: input.integrationId,
    codeVerifierEnc: pair ? await encrypt(env.ENCRYPTION_KEY, pair.verifier, `oauth_states:${nonce}`) : null,
    expiresAt: now + STATE_TTL_S * 1000,
  });
  const state = await new SignJWT({ tid: input.tenantId, iid: input.integrationId, nonce, via: input.via, ...(input.boundTo ? { bnd: input.boundTo } : {}) })
    .setProtectedHeader({ alg: "HS256" })
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${STATE_TTL_S}s`)
    .sign(key(env));
  return { state, codeChallenge: pair?.challenge ?? null };
}

/** Verifies and uses up a state; a tampered, expired or reused one is a 400. */
export async function consumeState(db: Db, env: Env, state: string) {
  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await jwtVerify(state, key(env), { audience: AUDIENCE, algorithms: ["HS256"] }));
  } catch {
    throw new AppError("bad_request", "The OAuth state is invalid or expired; start connecting again.");
  }
  if (typeof claims.tid !== "string" || typeof claims.iid !== "string" || typeof claims.nonce !== "string") {
    throw new AppError("bad_request", "The OAuth state is invalid; start connecting again.");
  }
  const now = Date.now();
  const row = await useOAuthState(db, claims.tid, claims.nonce, now);
  if (!row || row.integrationId !== claims.iid) throw new AppError("bad_request", "The OAuth state was already used or has expired; start connecting again.");
  const codeVerifier = row.codeVerifierEnc ? await decrypt(env.ENCRYPTION_KEY, row.codeVerifierEnc, `oauth_states:${row.nonce}`) : null;
  const via: ConnectVia = claims.via === "dashboard" ? "dashboard" : "api";
  return { tenantId: row.tenantId, integrationId: row.integrationId, codeVerifier, via, boundTo: typeof claims.bnd === "string" ? claims.bnd : null };
}

/** The provider's authorize URL for an integration, with a fresh single-use state. */
export async function authorizeUrlFor(db: Db, env: Env, integration: Integration, via: ConnectVia, boundTo?: string): Promise<string> {
  const def = connector(integration.provider);
  await assertIntegrationAllowed(db, integration, def.facts.name);
  const { state, codeChallenge } = await createState(db, env, { tenantId: integration.tenantId, integrationId: integration.id, pkce: def.oauth.usesPkce, via, boundTo });
  const s = settings(env);
  return def.oauth.authorizeUrl({ env, settings: s, redirectUri: `${s.publicUrl}/oauth/callback` }, { state, scopes: connectScopes(def, integration.config), codeChallenge });
}
