import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { directoryUsers, integrations, tenantSecrets, webhookEvents, type DirectoryUserRow } from "../db/schema";
import type { PushJob } from "../sync/jobs";
import { profileOf, type UserRef } from "./user";

/** What a source asks of one person. */
export type ChangeKind = "upsert" | "disable" | "delete";

export interface Change {
  kind: ChangeKind;
  /** The full user for `upsert`; for `disable`/`delete` at least the id. */
  user: UserRef;
  /** The source's time of the change (epoch ms): `data.updatedAt`, else the event's timestamp. */
  at: number;
  reason: PushJob["reason"];
  /** Set for webhooks: recorded in the same batch, keyed by `webhook-id`. */
  webhook?: { id: string; type: string; body: string };
}

export type IngestResult =
  | { outcome: "applied"; created: boolean; user: DirectoryUserRow; enqueued: boolean }
  | { outcome: "stale"; user: DirectoryUserRow }
  | { outcome: "unknown_user" }
  | { outcome: "duplicate" };

/** What the write needs to know, read in one round trip. */
export interface IngestContext {
  existing: DirectoryUserRow | null;
  activeIntegrationIds: string[];
  duplicate: boolean;
  /** Encrypted webhook secrets valid now (only when asked for). */
  secretRows: { valueEnc: string; createdAt: number }[];
}

/** Reads the current user, the tenant's active integrations and, for webhooks, the delivery id and secrets. */
export async function loadIngestContext(
  db: Db,
  tenantId: string,
  userId: string | null,
  opts: { webhookId?: string; withSecrets?: boolean; now?: number } = {},
): Promise<IngestContext> {
  const now = opts.now ?? Date.now();
  const [users, active, seen, secrets] = await db.batch([
    db
      .select()
      .from(directoryUsers)
      .where(and(eq(directoryUsers.tenantId, tenantId), eq(directoryUsers.id, userId ?? "")))
      .limit(1),
    db
      .select({ id: integrations.id })
      .from(integrations)
      .where(and(eq(integrations.tenantId, tenantId), eq(integrations.status, "active"))),
    db
      .select({ id: webhookEvents.webhookId })
      .from(webhookEvents)
      .where(and(eq(webhookEvents.tenantId, tenantId), eq(webhookEvents.webhookId, opts.webhookId ?? "")))
      .limit(1),
    db
      .select({ valueEnc: tenantSecrets.valueEnc, createdAt: tenantSecrets.createdAt })
      .from(tenantSecrets)
      .where(
        and(
          eq(tenantSecrets.tenantId, opts.withSecrets ? tenantId : ""),
          eq(tenantSecrets.kind, "webhook"),
          or(isNull(tenantSecrets.expiresAt), gt(tenantSecrets.expiresAt, now)),
        ),
      ),
  ]);
  return {
    existing: userId ? (users[0] ?? null) : null,
    activeIntegrationIds: active.map((r) => r.id),
    duplicate: opts.webhookId !== undefined && seen.length > 0,
    secretRows: secrets,
  };
}

/**
 * Applies one change to the directory, durably, then enqueues one push job per active
 * integration in one `sendBatch`. The directory row and the webhook record are written
 * in one atomic batch before anything is acknowledged; if the queue then fails, the row
 * keeps `needs_push = 1` and the resync picks it up. An older change than the stored one
 * is recorded and ignored — checked before writing and again inside the upsert, so two
 * racing deliveries cannot let the older one win.
 */
export async function applyChange(
  db: Db,
  queue: Queue<PushJob>,
  tenantId: string,
  change: Change,
  ctx: IngestContext,
  opts: { now?: number; waitUntil?: (p: Promise<unknown>) => void } = {},
): Promise<IngestResult> {
  const now = opts.now ?? Date.now();
  if (ctx.duplicate) return { outcome: "duplicate" };
  const { existing } = ctx;

  if (existing && change.at < existing.sourceUpdatedAt) {
    if (change.webhook && !(await recordWebhook(db, tenantId, change, "stale", now))) return { outcome: "duplicate" };
    return { outcome: "stale", user: existing };
  }
  const email = change.user.email ?? existing?.email;
  if (!email || (!existing && change.kind === "delete")) {
    if (change.webhook && !(await recordWebhook(db, tenantId, change, "ignored", now))) return { outcome: "duplicate" };
    return { outcome: "unknown_user" };
  }

  const needsPush = ctx.activeIntegrationIds.length > 0 ? 1 : 0;
  const status = nextStatus(change, existing);
  const full = change.kind === "upsert" || !existing;
  const values = {
    tenantId,
    id: change.user.id,
    email,
    emailLower: email.toLowerCase(),
    firstName: full ? (change.user.firstName ?? null) : existing.firstName,
    lastName: full ? (change.user.lastName ?? null) : existing.lastName,
    status,
    profile: full ? JSON.stringify(profileOf(change.user)) : existing.profile,
    version: 1,
    sourceUpdatedAt: change.at,
    needsPush,
    createdAt: now,
    updatedAt: now,
  };
  const upsert = db
    .insert(directoryUsers)
    .values(values)
    .onConflictDoUpdate({
      target: [directoryUsers.tenantId, directoryUsers.id],
      set: {
        email: sql`excluded.email`,
        emailLower: sql`excluded.email_lower`,
        firstName: sql`excluded.first_name`,
        lastName: sql`excluded.last_name`,
        status: sql`excluded.status`,
        profile: sql`excluded.profile`,
        version: sql`${directoryUsers.version} + 1`,
        sourceUpdatedAt: sql`excluded.source_updated_at`,
        needsPush: sql`excluded.needs_push`,
        updatedAt: sql`excluded.updated_at`,
      },
      setWhere: sql`excluded.source_updated_at >= ${directoryUsers.sourceUpdatedAt}`,
    })
    .returning();

  let written: DirectoryUserRow | undefined;
  try {
    if (change.webhook) {
      const [rows] = await db.batch([upsert, db.insert(webhookEvents).values(webhookRow(tenantId, change, "applied", now))]);
      written = rows[0];
    } else {
      written = (await upsert)[0];
    }
  } catch (err) {
    if (change.webhook && isUniqueViolation(err)) return { outcome: "duplicate" };
    throw err;
  }

  if (!written) {
    // A newer change landed between our read and our write: this one is stale after all.
    const [current] = await db
      .select()
      .from(directoryUsers)
      .where(and(eq(directoryUsers.tenantId, tenantId), eq(directoryUsers.id, change.user.id)));
    if (change.webhook) {
      await db
        .update(webhookEvents)
        .set({ outcome: "stale" })
        .where(and(eq(webhookEvents.tenantId, tenantId), eq(webhookEvents.webhookId, change.webhook.id)));
    }
    return { outcome: "stale", user: current! };
  }

  const enqueued = needsPush ? await enqueue(db, queue, written, ctx.activeIntegrationIds, change.reason, opts.waitUntil) : true;
  return { outcome: "applied", created: written.version === 1, user: written, enqueued };
}

function nextStatus(change: Change, existing: DirectoryUserRow | null): DirectoryUserRow["status"] {
  switch (change.kind) {
    case "delete":
      return "deleted";
    case "disable":
      return "disabled";
    case "upsert":
      // A full user without a status keeps the stored one, unless the person was deleted:
      // sending them again brings them back.
      return change.user.status ?? (existing && existing.status !== "deleted" ? existing.status : "active");
  }
}

/**
 * One message per active integration, in one `sendBatch` (≤ 100 messages a call). On
 * success the row's `needs_push` is cleared for this version; on failure it stays set.
 */
async function enqueue(
  db: Db,
  queue: Queue<PushJob>,
  user: DirectoryUserRow,
  integrationIds: string[],
  reason: PushJob["reason"],
  waitUntil?: (p: Promise<unknown>) => void,
): Promise<boolean> {
  const messages = integrationIds.map((integrationId) => ({
    body: { kind: "push", tenantId: user.tenantId, integrationId, userId: user.id, version: user.version, reason } satisfies PushJob,
    contentType: "json" as const,
  }));
  try {
    for (let i = 0; i < messages.length; i += 100) await queue.sendBatch(messages.slice(i, i + 100));
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "enqueue failed; left for the resync", tenantId: user.tenantId, userId: user.id, error: String(err) }));
    return false;
  }
  const clear = db
    .update(directoryUsers)
    .set({ needsPush: 0 })
    .where(and(eq(directoryUsers.tenantId, user.tenantId), eq(directoryUsers.id, user.id), eq(directoryUsers.version, user.version)))
    .then(() => undefined);
  if (waitUntil) waitUntil(clear);
  else await clear;
  return true;
}

type WebhookOutcome = (typeof webhookEvents.$inferInsert)["outcome"];

function webhookRow(tenantId: string, change: Change, outcome: WebhookOutcome, now: number) {
  const hook = change.webhook!;
  return { tenantId, webhookId: hook.id, type: hook.type, userId: change.user.id, outcome, body: hook.body, receivedAt: now };
}

/** Records a delivery that changed nothing; false when the id was already recorded. */
async function recordWebhook(db: Db, tenantId: string, change: Change, outcome: WebhookOutcome, now: number): Promise<boolean> {
  const res = await db.insert(webhookEvents).values(webhookRow(tenantId, change, outcome, now)).onConflictDoNothing();
  return (res.meta.changes ?? 0) > 0;
}

function isUniqueViolation(err: unknown): boolean {
  const text = String(err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : err);
  return /UNIQUE constraint failed|SQLITE_CONSTRAINT/i.test(text);
}
