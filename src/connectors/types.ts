import type { Env } from "../env";
import type { Settings } from "../settings";

/** Tokens as the hub keeps them (encrypted at rest). */
export interface TokenSet {
  accessToken: string;
  /** Null when the provider did not issue (or rotate) one. */
  refreshToken: string | null;
  /** Epoch ms. */
  expiresAt: number;
  scopes: string[];
}

export type { Connection } from "../lib/connection";
import type { Connection } from "../lib/connection";

/** An access token, with the version to report when the provider refuses it. */
export interface AccessToken {
  token: string;
  version: number;
}

/** Where a connector gets its access token: the hub's shared refresh, one per integration. */
export interface TokenSource {
  /** A valid token; `rejectedVersion` forces a refresh of a token the provider refused, unless someone replaced it already. */
  get(opts?: { rejectedVersion?: number }): Promise<AccessToken>;
}

/**
 * What every call of a connector receives: the connection it works on, the settings, a
 * token source and a way to keep connection facts it learns (such as Zoho's org id). A
 * connector touches neither tables nor other layers: this is all it has.
 */
export interface ConnectorContext {
  connection: Connection;
  env: Env;
  settings: Settings;
  tokens: TokenSource;
  saveFacts(facts: { orgId: string }): Promise<void>;
}

export interface OAuthContext {
  env: Env;
  settings: Settings;
  redirectUri: string;
}

/** The OAuth part of a connector: authorize URL, code exchange, refresh, revoke. */
export interface OAuthProvider {
  /** Microsoft requires PKCE (S256); Zoho's web flow does not use it. */
  usesPkce: boolean;
  authorizeUrl(ctx: OAuthContext, input: { state: string; scopes: string[]; codeChallenge: string | null }): string;
  /** Exchanges the callback's code; refuses hosts not in the settings. */
  exchange(ctx: OAuthContext, input: { code: string; query: Record<string, string>; codeVerifier: string | null; scopes: string[] }): Promise<{ tokens: TokenSet; connection: Connection }>;
  refresh(ctx: OAuthContext, input: { connection: Connection; refreshToken: string }): Promise<TokenSet>;
  /** Revokes the refresh token at the provider, where the provider offers that. */
  revoke(ctx: OAuthContext, input: { connection: Connection; refreshToken: string }): Promise<void>;
}
