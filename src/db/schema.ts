import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { LOG_ACTIONS, RUN_KINDS, RUN_STATUSES, RUN_TRIGGERS } from "./vocabulary";

// Every tenant-owned row carries tenant_id, and every query filters by it, so that
// tenants can later be spread over several D1 databases (DESIGN.md, "Scale").
// Timestamps are integer milliseconds since the epoch; the API renders them as ISO-8601.

/** One organisation using the hub. */
export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** The host app's page that signs an admin in again (API.md); null until the tenant sets it. */
  signInUrl: text("sign_in_url"),
  /** The providers the operator lets this tenant enable, as a JSON array; null is all of them. */
  providers: text("providers"),
  createdAt: integer("created_at").notNull(),
});

/** Tenant API keys: only the SHA-256 of the key is stored; the key is shown once. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    keyHash: text("key_hash").notNull(),
    /** The first characters of the key, to tell keys apart in the dashboard. */
    keyPrefix: text("key_prefix").notNull(),
    createdAt: integer("created_at").notNull(),
    /** After this instant the key no longer authenticates (set on rotation). */
    expiresAt: integer("expires_at"),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.keyHash), index("api_keys_tenant").on(t.tenantId)],
);

/**
 * Webhook and SSO secrets. They must be usable to compute HMACs, so they are encrypted
 * (AES-GCM, ENCRYPTION_KEY), not hashed. A rotated secret keeps working until expiresAt.
 */
export const tenantSecrets = sqliteTable(
  "tenant_secrets",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["webhook", "sso", "event"] }).notNull(),
    valueEnc: text("value_enc").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at"),
  },
  (t) => [index("tenant_secrets_tenant_kind").on(t.tenantId, t.kind)],
);

/**
 * The hub's copy of each person. `id` is the source's own stable id. `version` counts
 * accepted changes; `sourceUpdatedAt` is the source's clock, used to ignore stale events.
 */
export const directoryUsers = sqliteTable(
  "directory_users",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    email: text("email").notNull(),
    /** Lower-cased e-mail, for case-insensitive matching and search. */
    emailLower: text("email_lower").notNull(),
    firstName: text("first_name"),
    lastName: text("last_name"),
    status: text("status", { enum: ["active", "disabled", "deleted"] }).notNull(),
    /** The remaining profile fields of API.md (role, department, …) and `attributes`, as JSON. */
    profile: text("profile").notNull().default("{}"),
    version: integer("version").notNull(),
    sourceUpdatedAt: integer("source_updated_at").notNull(),
    /** 1 when enqueueing the jobs for `version` failed; the cron's sweep sends them again. */
    needsPush: integer("needs_push").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index("directory_users_email").on(t.tenantId, t.emailLower),
    index("directory_users_needs_push").on(t.tenantId, t.needsPush),
    index("directory_users_updated").on(t.tenantId, t.updatedAt),
  ],
);

/** An uploaded CSV file (API.md "CSV imports"): the file itself is in R2 under `object_key`. */
export const imports = sqliteTable(
  "imports",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    objectKey: text("object_key").notNull(),
    bytes: integer("bytes").notNull(),
    /** Data rows, the header row not counted. */
    rows: integer("rows").notNull(),
    /** The header row, as JSON. */
    headers: text("headers").notNull(),
    delimiter: text("delimiter", { enum: [",", ";"] }).notNull(),
    status: text("status", { enum: ["uploaded", "applying", "applied", "failed"] }).notNull(),
    runId: text("run_id"),
    /**
     * For a file picked up from the R2 inbox: its key and etag. Unique, so that two
     * overlapping cron ticks import a file once (the second insert finds it taken).
     */
    pickupKey: text("pickup_key"),
    /**
     * The plan being made or carried out: its id names its keys in `import_keys` and its
     * files in R2 (`plans/{tenant}/{import}/{planId}/`).
     */
    planId: text("plan_id"),
    /**
     * For a picked-up file, planned in steps through the queue: the step to run next. A
     * step moves it on with one conditional update, so of two deliveries of a step one
     * goes on.
     */
    planStep: integer("plan_step"),
    /** When the plan last moved on a step: a plan standing still for minutes lost its message, and the cron sends it again. */
    planMovedAt: integer("plan_moved_at"),
    /** For a file picked up from the tenant's own location: its key there (where it is moved to done/ or failed/ when the import ends). */
    sourceKey: text("source_key"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("imports_tenant").on(t.tenantId, t.createdAt), uniqueIndex("imports_pickup").on(t.pickupKey), index("imports_status").on(t.status)],
);

/**
 * The keys (ids and e-mails) of every row of a file while an import is planned, so that
 * rows sharing a key and the people absent from the file are found in D1 rather than in
 * the isolate's memory, which then does not grow with the file. A plan deletes its own
 * keys when it ends; the daily housekeeping deletes what a plan that died left behind.
 */
export const importKeys = sqliteTable(
  "import_keys",
  {
    planId: text("plan_id").notNull(),
    kind: text("kind", { enum: ["id", "email"] }).notNull(),
    /** The data row (from 1) the key is on: a step written again adds no key twice. */
    row: integer("row").notNull().default(0),
    key: text("key").notNull(),
    keyLower: text("key_lower").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("import_keys_row").on(t.planId, t.kind, t.row), index("import_keys_key").on(t.planId, t.kind, t.key), index("import_keys_lower").on(t.planId, t.kind, t.keyLower), index("import_keys_created").on(t.createdAt)],
);

/** A tenant's saved import mapping: what scheduled pickup applies files from R2 with. */
export const importMappings = sqliteTable("import_mappings", {
  tenantId: text("tenant_id")
    .primaryKey()
    .references(() => tenants.id, { onDelete: "cascade" }),
  /** Header → user field, `attributes.<name>` or null, as JSON. */
  mapping: text("mapping").notNull(),
  mode: text("mode", { enum: ["partial", "full"] }).notNull(),
  maxDisablePercent: integer("max_disable_percent").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * A tenant's own pickup location (API.md "CSV imports"): an S3-compatible bucket and
 * prefix of theirs, read with their access key, whose secret is sealed like every
 * credential (AES-GCM with ENCRYPTION_KEY, the tenant id as associated data) and never
 * answered again. The cron polls it every `every_minutes`.
 */
export const importLocations = sqliteTable("import_locations", {
  tenantId: text("tenant_id")
    .primaryKey()
    .references(() => tenants.id, { onDelete: "cascade" }),
  endpoint: text("endpoint").notNull(),
  region: text("region").notNull(),
  bucket: text("bucket").notNull(),
  prefix: text("prefix").notNull(),
  accessKeyId: text("access_key_id").notNull(),
  /** The secret access key, sealed. */
  secret: text("secret").notNull(),
  everyMinutes: integer("every_minutes").notNull(),
  /** When the cron next looks; claimed by compare-and-set so overlapping ticks look once. */
  nextDueAt: integer("next_due_at").notNull(),
  lastPickupAt: integer("last_pickup_at"),
  /** The location's own answer when it last refused (credentials, bucket, network); null once it answers again. */
  lastError: text("last_error"),
  updatedAt: integer("updated_at").notNull(),
});

/** Every webhook delivery we accepted, by its `webhook-id`, for idempotency and audit. */
export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    webhookId: text("webhook_id").notNull(),
    type: text("type").notNull(),
    userId: text("user_id").notNull(),
    outcome: text("outcome", { enum: ["applied", "stale", "ignored"] }).notNull(),
    body: text("body").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.webhookId] }), index("webhook_events_received").on(t.receivedAt)],
);

/**
 * A disable or delete that arrived for a person the directory did not hold yet, with its
 * version, so that an older create arriving later (a sender's retry) is stale.
 */
export const directoryTombstones = sqliteTable(
  "directory_tombstones",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    status: text("status", { enum: ["disabled", "deleted"] }).notNull(),
    sourceUpdatedAt: integer("source_updated_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index("directory_tombstones_created").on(t.createdAt)],
);

/** One connection of one tenant to one provider account. */
export const integrations = sqliteTable(
  "integrations",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    provider: text("provider").notNull(),
    name: text("name").notNull(),
    status: text("status", { enum: ["pending", "active", "deactivated"] }).notNull(),
    pendingActions: text("pending_actions").notNull().default("[]"),
    config: text("config").notNull().default("{}"),
    /** Facts of the OAuth connection (accounts server, API domain, data centre, scopes, when); null until connected. */
    connection: text("connection"),
    /**
     * Counts the connections stored: each (re)connect adds one, in the batch that stores its
     * credentials with the same number. A job holding an older copy of the integration can
     * then never undo a newer connect (forget its credentials, write its connection back).
     */
    connectionVersion: integer("connection_version").notNull().default(0),
    /** Why the integration last stopped working (e.g. a refresh token the provider rejected). */
    lastError: text("last_error"),
    /** Back-pressure: after a provider's 429 no job of this integration runs before this instant. */
    pausedUntil: integer("paused_until"),
    /** When the cron next starts a resync / a reconciliation (null: at the next tick). */
    resyncDueAt: integer("resync_due_at"),
    reconcileDueAt: integer("reconcile_due_at"),
    /** Sources: when the cron next starts an incremental pull, and a full one (null: at the next tick). */
    pullDueAt: integer("pull_due_at"),
    fullPullDueAt: integer("full_pull_due_at"),
    /** Sources: where the next incremental pull starts (the provider's modified time, epoch ms). */
    pullCursor: integer("pull_cursor"),
    /**
     * The cron's sweep (schedule/sweep.ts): every person changed up to this instant and left
     * behind has had their job sent again (null: never swept). The sweep takes the least
     * recently covered integrations first.
     */
    sweptThrough: integer("swept_through"),
    /** Whether directory changes fan out to it as push jobs (false for a source that only pulls). */
    receivesPushes: integer("receives_pushes", { mode: "boolean" }).notNull().default(true),
    /** `410 Gone` answers of the `after` handler's receiver in a row; any other answer resets it. */
    afterGoneStreak: integer("after_gone_streak").notNull().default(0),
    /** Why deliveries to the `after` handler stopped (three 410s in a row); saving the handler again clears it. */
    afterDisabledReason: text("after_disabled_reason"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("integrations_tenant").on(t.tenantId, t.status)],
);

/**
 * An event for an integration's `after` handler (API.md "Handlers"), stored before it is
 * queued so that no restart loses it: the cron's sweep sends again any the queue lost.
 * `id` is the `webhook-id` of every attempt; `body` is exactly what is signed and sent.
 */
export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    integrationId: text("integration_id").notNull(),
    type: text("type").notNull(),
    body: text("body").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed", "dropped"] }).notNull(),
    /** Attempts made (claimed) so far. */
    attempts: integer("attempts").notNull().default(0),
    /** When the next attempt is due; while an attempt runs, when it is given up for lost. */
    nextAttemptAt: integer("next_attempt_at").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("events_due").on(t.status, t.nextAttemptAt), index("events_integration").on(t.integrationId, t.createdAt)],
);

/** What the handlers did: each `before` evaluation that skipped or failed, each `after` delivery attempt. Kept as long as sync logs. */
export const handlerLogs = sqliteTable(
  "handler_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    // No foreign key: the logs of a deleted integration are kept, as sync logs are.
    integrationId: text("integration_id").notNull(),
    kind: text("kind", { enum: ["before", "after"] }).notNull(),
    event: text("event"),
    eventId: text("event_id"),
    userId: text("user_id"),
    status: text("status", { enum: ["ok", "skipped", "failed", "retrying", "disabled"] }).notNull(),
    httpStatus: integer("http_status"),
    durationMs: integer("duration_ms"),
    attempt: integer("attempt"),
    nextAttemptAt: integer("next_attempt_at"),
    detail: text("detail"),
    at: integer("at").notNull(),
  },
  (t) => [index("handler_logs_integration").on(t.integrationId, t.id), index("handler_logs_at").on(t.at)],
);

/**
 * OAuth tokens of an integration, encrypted (AES-GCM, ENCRYPTION_KEY, bound to the
 * integration). `tokenVersion` counts access tokens; the lease makes one refresh per
 * integration at a time, however many jobs need a token.
 */
export const integrationCredentials = sqliteTable("integration_credentials", {
  integrationId: text("integration_id")
    .primaryKey()
    .references(() => integrations.id, { onDelete: "cascade" }),
  tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
  accessTokenEnc: text("access_token_enc").notNull(),
  refreshTokenEnc: text("refresh_token_enc"),
  accessExpiresAt: integer("access_expires_at").notNull(),
  /** The integration's `connection_version` these credentials belong to. */
  connectionVersion: integer("connection_version").notNull().default(0),
  tokenVersion: integer("token_version").notNull().default(1),
  leaseId: text("lease_id"),
  leaseUntil: integer("lease_until"),
  updatedAt: integer("updated_at").notNull(),
});

/** Sign-in tokens already used (by `jti`), kept until they expire: each opens one session. */
export const ssoTokenUses = sqliteTable(
  "sso_token_uses",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    jti: text("jti").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.jti] }), index("sso_token_uses_expires").on(t.expiresAt)],
);

/** One pending OAuth authorization: the `state` nonce, single-use, with the PKCE verifier (encrypted). */
export const oauthStates = sqliteTable(
  "oauth_states",
  {
    nonce: text("nonce").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    integrationId: text("integration_id").notNull(),
    codeVerifierEnc: text("code_verifier_enc"),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [index("oauth_states_expires").on(t.expiresAt)],
);
export type OAuthStateRow = typeof oauthStates.$inferSelect;

/** A directory person ↔ the remote record in one integration. */
export const links = sqliteTable(
  "links",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    integrationId: text("integration_id")
      .notNull()
      .references(() => integrations.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    remoteId: text("remote_id"),
    remoteUrl: text("remote_url"),
    /** `invited`: a network invitation went out and the person has not joined yet (no remote id). */
    status: text("status", { enum: ["synced", "pending", "invited", "failed", "excluded", "unmatched"] }).notNull(),
    payloadHash: text("payload_hash"),
    pushedVersion: integer("pushed_version"),
    lastError: text("last_error"),
    /** For `failed`: `retry` (passing; the resync tries again) or `bad_data` (needs a change first). */
    failureKind: text("failure_kind", { enum: ["retry", "bad_data"] }),
    lastSyncedAt: integer("last_synced_at"),
    /** Set by an admin: `linked` by hand, or `unlinked` (the person is not matched again automatically). */
    manual: text("manual", { enum: ["linked", "unlinked"] }),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.integrationId, t.userId] }),
    uniqueIndex("links_remote").on(t.integrationId, t.remoteId).where(sql`${t.remoteId} IS NOT NULL`),
    index("links_tenant_user").on(t.tenantId, t.userId),
    index("links_status").on(t.integrationId, t.status),
  ],
);

/** One line per action taken (or skipped) on a remote system, with its outcome. */
export const syncLogs = sqliteTable(
  "sync_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    // No foreign key: the logs of a deleted integration are kept.
    integrationId: text("integration_id").notNull(),
    userId: text("user_id"),
    action: text("action", { enum: LOG_ACTIONS }).notNull(),
    status: text("status", { enum: ["ok", "failed", "skipped"] }).notNull(),
    remoteId: text("remote_id"),
    detail: text("detail"),
    at: integer("at").notNull(),
  },
  (t) => [
    index("sync_logs_integration").on(t.integrationId, t.id),
    index("sync_logs_user").on(t.integrationId, t.userId),
    // The hourly removal allowance counts an integration's recent removals without reading its other log lines.
    index("sync_logs_removals").on(t.integrationId, t.at).where(sql`action in ('delete', 'disable') and status = 'ok'`),
  ],
);

/**
 * One resync, reconciliation, import or pull. Its work is cut into pages (queue
 * messages) handled one after another: `page` is the next page to run, `cursor` where
 * it starts, so a redelivered page message is recognised and not counted twice.
 */
export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    /** Null for an import (it changes the directory, not one integration). */
    integrationId: text("integration_id"),
    kind: text("kind", { enum: RUN_KINDS }).notNull(),
    status: text("status", { enum: RUN_STATUSES }).notNull(),
    /** What started it (API.md): the schedule, an API call, the dashboard, or a CSV pickup. */
    trigger: text("trigger", { enum: RUN_TRIGGERS }).notNull(),
    /** For a resync of chosen people: their ids as JSON; null for everyone due. */
    userIds: text("user_ids"),
    page: integer("page").notNull().default(0),
    cursor: text("cursor"),
    /** Set once an admin approved a held run: the mass-change guard lets it go on. */
    approved: integer("approved").notNull().default(0),
    /**
     * 1 for the run that holds removals by webhook or import past the mass-change guard's
     * hourly allowance (a resync of the people held, in `user_ids`). It has its own slot
     * beside the other runs of its kind, so holding it blocks no resync.
     */
    removals: integer("removals").notNull().default(0),
    created: integer("created").notNull().default(0),
    updated: integer("updated").notNull().default(0),
    unchanged: integer("unchanged").notNull().default(0),
    disabled: integer("disabled").notNull().default(0),
    excluded: integer("excluded").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    linked: integer("linked").notNull().default(0),
    unmatched: integer("unmatched").notNull().default(0),
    /** Why the run is held, failed or was cancelled. */
    detail: text("detail"),
    startedAt: integer("started_at").notNull(),
    finishedAt: integer("finished_at"),
    /**
     * When the run last moved: started, a page or a slice recorded, approved, or sent on by
     * the cron. A `running` run that has not moved for a while lost its page's message.
     */
    movedAt: integer("moved_at"),
  },
  (t) => [
    index("runs_integration").on(t.integrationId, t.kind, t.status),
    index("runs_moved").on(t.status, t.movedAt),
    index("runs_tenant").on(t.tenantId, t.startedAt),
    // At most one open run of a kind per integration (and one open removals run): starting
    // one is a single atomic insert.
    uniqueIndex("runs_one_open").on(t.integrationId, t.kind, t.removals).where(sql`status in ('running', 'held')`),
  ],
);

/** Remote records the last reconciliation found and could not match to anyone (the dashboard's "unmatched" list). */
export const remoteUnmatched = sqliteTable(
  "remote_unmatched",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    integrationId: text("integration_id")
      .notNull()
      .references(() => integrations.id, { onDelete: "cascade" }),
    remoteId: text("remote_id").notNull(),
    email: text("email"),
    name: text("name"),
    remoteUrl: text("remote_url"),
    /** The reconciliation that last saw it; older rows are dropped when a run finishes. */
    runId: text("run_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.integrationId, t.remoteId] })],
);

export type Tenant = typeof tenants.$inferSelect;
export type DirectoryUserRow = typeof directoryUsers.$inferSelect;
export type IntegrationRow = typeof integrations.$inferSelect;
export type LinkRow = typeof links.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type ImportRow = typeof imports.$inferSelect;
export type ImportKeyRow = typeof importKeys.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type HandlerLogRow = typeof handlerLogs.$inferInsert;

/**
 * The calls made to a provider that limits them (Zoho People: 400 a minute, a daily
 * budget), one row each, kept two days: the throttle counts the last minute, the budget
 * the current UTC day.
 */
export const providerCalls = sqliteTable(
  "provider_calls",
  {
    integrationId: text("integration_id")
      .notNull()
      .references(() => integrations.id, { onDelete: "cascade" }),
    at: integer("at").notNull(),
  },
  (t) => [index("provider_calls_at").on(t.integrationId, t.at)],
);

/** A group at the provider that the hub manages (Zoho Connect): created by the hub, or found, with its id there. */
export const remoteGroups = sqliteTable(
  "remote_groups",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    integrationId: text("integration_id")
      .notNull()
      .references(() => integrations.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    remoteId: text("remote_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.integrationId, t.name] })],
);

/** A person's membership of a managed group, as the hub last made it at the provider. */
export const groupMembers = sqliteTable(
  "group_members",
  {
    tenantId: text("tenant_id").notNull().references(() => tenants.id, { onDelete: "cascade" }),
    integrationId: text("integration_id")
      .notNull()
      .references(() => integrations.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    groupName: text("group_name").notNull(),
    addedAt: integer("added_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.integrationId, t.userId, t.groupName] }), index("group_members_group").on(t.integrationId, t.groupName)],
);
