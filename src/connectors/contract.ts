import type * as v from "valibot";
import type { Env } from "../env";
import type { MappingEntry, ProviderConfig, ResolvedConfig } from "../lib/config";
import type { Connection } from "../lib/connection";
import type { FieldError } from "../lib/errors";
import type { Logger } from "../lib/log";
import type { UserInput } from "../lib/user-fields";
import type { Settings } from "../settings";

/**
 * What every provider folder implements (docs/architecture.md, "How to add a
 * provider"). The engine reaches a provider only through this interface and the
 * registry in ./index.ts; it never names one.
 */

export type { Connection } from "../lib/connection";

export const PROVIDER_IDS = ["zoho-crm", "zoho-connect", "zoho-people", "microsoft-365"] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** Facts of a provider, declared once in its folder's facts.ts. */
export interface ConnectorFacts {
  id: ProviderId;
  /** The product's name, for pages and messages ("Zoho CRM"). */
  name: string;
  /** How sentences name the place the records live ("changed in Zoho"). */
  brand: string;
  direction: "push" | "pull" | "two-way";
  objects: readonly string[];
  /** The default mapping of directory fields to the provider's fields. */
  mapping: MappingEntry[];
  limits: {
    /** Records one write call takes. */
    writeBatch: number;
    /** Keys one lookup call takes. */
    lookupBatch: number;
    /** Records one listing call returns. */
    listPage: number;
    /** The provider's documented request ceiling a minute, per connection, where it has one. */
    requestsPerMinute?: number;
    /** Calls the provider allows at once, per connection, where it says. */
    concurrency?: number;
    /** The provider's daily allowance in words, where the hub cannot read it (shown beside the calls made today). */
    dailyAllowance?: string;
  };
  /** What the provider's API cannot do that an admin would expect (shown in `GET /v1/providers` and on the dashboard). */
  limitations?: string[];
}

/** The connector's part of the integration config. */
export interface ConnectorConfig {
  /** Keys only this provider has (valibot entries), beside the engine's. */
  entries: v.ObjectEntries;
  /** The provider's defaults over the engine's (`object` and `mapping` at least). */
  defaults: Partial<ResolvedConfig> & Pick<ResolvedConfig, "object" | "mapping"> & Readonly<Record<string, unknown>>;
  /** The OAuth scopes an integration with this config needs. */
  scopes(config: ProviderConfig): string[];
  /** The pending actions (`configure`, `choose-network`, `review-group-rules`) while settings the provider needs are missing. */
  missing(config: ProviderConfig): string[];
  /** Config the provider cannot honour, as 422 field errors. */
  problems(config: ProviderConfig): FieldError[];
}

/** Tokens as the hub keeps them (encrypted at rest). */
export interface TokenSet {
  accessToken: string;
  /** Null when the provider did not issue (or rotate) one. */
  refreshToken: string | null;
  /** Epoch ms. */
  expiresAt: number;
  scopes: string[];
}

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
 * What every call of a connector receives: the tenant and integration it works for, its
 * connection, the settings, a token source, a logger and a way to keep connection facts
 * it learns (such as Zoho's org id). A connector touches neither tables nor other
 * layers: this is all it has.
 */
export interface ConnectorContext {
  tenantId: string;
  integrationId: string;
  connection: Connection;
  /** The integration's config: a connector reads its own keys there (Zoho Connect's `networkId`). */
  config: ProviderConfig;
  env: Env;
  settings: Settings;
  tokens: TokenSource;
  log: Logger;
  /** Keeps facts on the connection, only while it is still the stored one. */
  saveFacts(facts: { orgId: string }): Promise<void>;
  /**
   * Counts one call against the provider's limits (a connector that has them calls it
   * before each request): throws a ProviderError `retryAfter`, with the wait, when the
   * call would exceed the integration's requests a minute or its calls a day.
   */
  spendCall(): Promise<void>;
}

export interface OAuthContext {
  env: Env;
  settings: Settings;
  redirectUri: string;
}

/** The OAuth part of a connector: authorize URL, code exchange, refresh, revoke, connection facts. */
export interface OAuthProvider {
  /** Microsoft requires PKCE (S256); Zoho's web flow does not use it. */
  usesPkce: boolean;
  authorizeUrl(ctx: OAuthContext, input: { state: string; scopes: string[]; codeChallenge: string | null }): string;
  /** Exchanges the callback's code; refuses hosts not in the settings. */
  exchange(ctx: OAuthContext, input: { code: string; query: Record<string, string>; codeVerifier: string | null; scopes: string[] }): Promise<{ tokens: TokenSet; connection: Connection }>;
  refresh(ctx: OAuthContext, input: { connection: Connection; refreshToken: string }): Promise<TokenSet>;
  /** Revokes the refresh token at the provider, where the provider offers that. */
  revoke(ctx: OAuthContext, input: { connection: Connection; refreshToken: string }): Promise<void>;
  /**
   * Scopes asked at connect only to name the connected account (never a reason to
   * reconnect when an older connection lacks them), and how to name it: e-mail, org.
   */
  account?: {
    scopes: string[];
    describe(ctx: OAuthContext, input: { accessToken: string; connection: Connection }): Promise<Pick<Connection, "accountEmail" | "orgName" | "orgId">>;
  };
}

/** A record at the provider: its id and the fields asked for. */
export interface RemoteRecord {
  id: string;
  fields: Record<string, unknown>;
}

/** What became of one record of a write, in input order. */
export type RecordOutcome =
  | { ok: true; id: string; action: "insert" | "update" | "delete" }
  /**
   * The provider invited the person (Zoho Connect): the record exists once they join.
   * `note`: what the admin should know (the invitation's answer was lost, say).
   */
  | { ok: true; id: null; action: "invite"; note?: string }
  /**
   * `gone`: the record no longer exists at the provider (an update by id); `badData`:
   * the provider refused this record's data (`field` when it named one). `message` is
   * the provider's own words, with its code, safe to show.
   */
  | { ok: false; error: "gone" | "badData"; message: string; field: string | null };

/** A record to update: its id and the mapped fields. */
export interface RecordUpdate {
  id: string;
  fields: Record<string, unknown>;
}

/**
 * What a target can do. Every write is safe to repeat: a create finds the record by the
 * matching key first (the provider's upsert, or find-then-create), an update goes by id,
 * a removal of a record already gone counts as done. A failure of the whole call throws
 * a ProviderError (./errors.ts); a failure of one record comes back as its outcome.
 */
export interface PushConnector {
  /**
   * Whether the provider compares matching keys ignoring case (Zoho's duplicate check
   * does): a create for `Ada@x` would then land on the record of `ada@x`.
   */
  keysIgnoreCase: boolean;
  /** Records whose `field` equals one of `values`, with `field` in their fields. */
  find(ctx: ConnectorContext, object: string, field: string, values: string[]): Promise<RemoteRecord[]>;
  /** Creates records unless one with the same `keyField` exists (then it is updated): at most `limits.writeBatch`. */
  create(ctx: ConnectorContext, object: string, records: Record<string, unknown>[], keyField: string): Promise<RecordOutcome[]>;
  /** Updates records by id: at most `limits.writeBatch`. */
  update(ctx: ConnectorContext, object: string, records: RecordUpdate[]): Promise<RecordOutcome[]>;
  /** Removes records by id (`onDelete: delete`): at most `limits.writeBatch`. */
  remove(ctx: ConnectorContext, object: string, ids: string[]): Promise<RecordOutcome[]>;
  /** One record by id, or null when there is none. */
  get(ctx: ConnectorContext, object: string, id: string): Promise<RemoteRecord | null>;
  /** Whether `id` has the shape of this provider's record ids (checked before a manual link). */
  isRecordId(id: string): boolean;
  /** How to make the URL that opens a record (it may need a fact fetched once, such as an org id). */
  recordUrls(ctx: ConnectorContext, object: string): Promise<(id: string) => string | null>;
  /**
   * One page of the object's records after the cursor (exclusive), in the text order of
   * their ids, with `fields`: reconciliation lists a whole object with it. `more` is
   * false on the last page.
   */
  list(ctx: ConnectorContext, object: string, fields: string[], after: string | null): Promise<{ records: RemoteRecord[]; more: boolean }>;
  /** The fields that name a person in a record of `object`, for the unmatched list. */
  nameFields(object: string): string[];
  /** The person's name in a record listed with `nameFields`, or null. */
  nameOf(fields: Record<string, unknown>): string | null;
  /** Where the provider has groups the hub manages by `config.groupRules`. */
  groups?: GroupConnector;
}

/** Groups at a provider (Zoho Connect's groups of a network), whose members are record ids. */
export interface GroupConnector {
  /** Members one add call takes. */
  addBatch: number;
  /** The provider's groups (those made by hand in it too): the engine uses one of the same name rather than make another. */
  list(ctx: ConnectorContext): Promise<{ id: string; name: string }[]>;
  /** Creates a group; answers its id. Called once: after a lost answer the engine lists again first. */
  create(ctx: ConnectorContext, name: string): Promise<string>;
  /** Adds records to a group (at most `addBatch`); answers the ids the provider refused. */
  add(ctx: ConnectorContext, groupId: string, memberIds: string[]): Promise<{ failed: string[] }>;
  /** Removes a record from a group; one that is not in it counts as removed. */
  remove(ctx: ConnectorContext, groupId: string, memberId: string): Promise<void>;
}

/** A choice an admin makes from what the connected account has (Zoho Connect's networks). */
export interface Choice {
  id: string;
  name: string;
  isDefault: boolean;
}

/** A person as a source holds them, mapped to the directory's fields. */
export interface PulledRecord {
  /** The record's id at the provider: the link's remote id. */
  remoteId: string;
  /** The id a directory person created from it gets (Zoho People: the EmployeeID). */
  personId: string;
  /** Whether the source counts the person as working (anything else disables them). */
  active: boolean;
  /** The provider's time of the record's last change (epoch ms): the change's version. */
  modifiedAt: number;
  /** The directory fields the source gives, `email` at least (a record without one is left out). */
  user: Omit<UserInput, "id" | "status" | "updatedAt">;
  /** Values the source gave that could not be taken (a date not in the configured format), each said in full. */
  problems: string[];
}

/** What a source can do: read its people, a page at a time. */
/** One page of a pull. */
export interface PulledPage {
  records: PulledRecord[];
  more: boolean;
  read: number;
}

export interface PullConnector {
  /**
   * One page of people from `offset` (0 for the first): every person when `since` is
   * null (a full pull), else those changed after `since` (epoch ms). `more` is false on
   * the last page. `read` is how many entries the provider returned, those left out (no
   * e-mail) included: the next page's offset moves by it.
   */
  pull(ctx: ConnectorContext, input: { since: number | null; offset: number }): Promise<PulledPage>;
}

/** One provider: one folder, these parts, one line in the registry. */
export interface Connector {
  facts: ConnectorFacts;
  config: ConnectorConfig;
  oauth: OAuthProvider;
  /** What is wrong with this provider's settings (for `/healthz` and `npm start`). */
  settingsProblems?(env: Env): string[];
  /** Targets: how records are found and written. */
  push?: PushConnector;
  /** Sources: how people are read. */
  pull?: PullConnector;
  /**
   * The networks of the connected account, where the provider has several (Zoho Connect):
   * one is chosen at connect when there is only one, else the admin chooses
   * (`config.networkId`, the pending action `choose-network`).
   */
  networks?(ctx: ConnectorContext): Promise<Choice[]>;
}
