import type { BatchItem } from "drizzle-orm/batch";
import { handlingOf, ProviderError } from "../connectors";
import { deleteRecords, findByKeys, recordUrlMaker, updateRecords, upsertRecords, WRITE_BATCH, type RecordOutcome, type RemoteRecord } from "../connectors/zoho/records";
import type { Db } from "../db/client";
import type { Integration } from "../integrations/store";
import { type LinkRow, type RunRow, type syncLogs } from "../db/schema";
import { noCounts, type RunCounts } from "../db/vocabulary";
import { heldRemovalsRun, holdRemovals } from "../db/runs.repo";
import { forgetHashesStatement, holdersOfRecords, linkedCount, linksByUsers, removalsSince, saveOutcomes, usersByIds } from "../db/sync.repo";
import { userView } from "../directory/user";
import type { Env } from "../env";
import { connectorContext } from "../integrations/connector-context";
import type { PushJob } from "../jobs/messages";
import { mapUser, outOfScope, type SourceUser } from "./mapping";

type LogRow = typeof syncLogs.$inferInsert;


/** What became of a group of jobs: done, or to be tried again after `delayMs`. */
export type GroupOutcome = (
  | { kind: "done" }
  | { kind: "retry"; delayMs: number | undefined; reason: string; pause: boolean }
  /** The provider refused the credentials: the integration waits for a reconnect. */
  | { kind: "stopped"; reason: string }
) & { counts: RunCounts };

export interface PushOptions {
  /**
   * Reconciliation: what it saw in Zoho, by person: the record (the linked one, or one
   * it matched just now), or null when the linked record is gone (it is created again).
   * A seen record is compared field by field instead of by the payload hash.
   */
  seen?: Map<string, RemoteRecord | null>;
  /** Push even when the payload hash says nothing changed (resync of chosen people). */
  force?: boolean;
  /**
   * Statements written in the same batch as the outcomes, e.g. a run's counts and its
   * next page. `finished` is false when a provider failure leaves people to a retry.
   */
  alongside?: (counts: RunCounts, finished: boolean) => BatchItem<"sqlite">[];
  /**
   * How the mass-change guard treats removals (records deleted under `onDelete: delete`).
   * `hourly` (jobs from webhooks and imports): up to the hourly allowance, the rest held
   * behind the integration's removals run. `held` (a run's page, which the run's own guard
   * checked): only people already held wait. `approved` (an approved run): none wait.
   */
  removals?: "hourly" | "held" | "approved";
}

/** Removals by webhook or import an integration may always make in an hour, whatever its size. */
export const FREE_REMOVALS_PER_HOUR = 5;
const HOUR_MS = 3_600_000;

/**
 * The mass-change guard for removals outside approved runs. People already held wait for
 * their run. Jobs may remove up to maxDisablePercent of the linked people (at least
 * FREE_REMOVALS_PER_HOUR) within a rolling hour, counting the removals already made in it;
 * the rest are held behind the removals run, for an admin to approve or cancel.
 */
async function guardRemovals<T extends { userId: string }>(
  db: Db,
  integration: Integration,
  toDelete: T[],
  mode: "hourly" | "held",
): Promise<{ go: T[]; held: { run: RunRow; items: T[] } | null }> {
  const heldRun = await heldRemovalsRun(db, integration.id);
  const already = new Set(heldRun?.userIds ? (JSON.parse(heldRun.userIds) as string[]) : []);
  const waiting = toDelete.filter((d) => already.has(d.userId));
  let go = toDelete.filter((d) => !already.has(d.userId));
  let newlyHeld: T[] = [];
  let detail = heldRun?.detail ?? "";
  if (mode === "hourly" && go.length) {
    const [linked, recent] = await Promise.all([linkedCount(db, integration.id), removalsSince(db, integration.id, Date.now() - HOUR_MS)]);
    const { maxDisablePercent } = integration.config;
    const allowance = Math.max(FREE_REMOVALS_PER_HOUR, Math.floor((linked * maxDisablePercent) / 100));
    const left = Math.max(0, allowance - recent);
    if (go.length > left) {
      newlyHeld = go.slice(left);
      go = go.slice(0, left);
      detail = `Holds removals by webhook or import past the mass-change guard: more than ${allowance} records within an hour (maxDisablePercent ${maxDisablePercent}% of ${linked} linked people, at least ${FREE_REMOVALS_PER_HOUR}). Approve the run to delete these people's records, or cancel it to leave them as they are.`;
    }
  }
  if (!waiting.length && !newlyHeld.length) return { go, held: null };
  const run = newlyHeld.length ? await holdRemovals(db, integration, newlyHeld.map((d) => d.userId), detail) : heldRun;
  if (!run) throw new ProviderError("transient", "An approved removals run is still deleting records; these removals wait for it to end.", 30_000);
  return { go, held: { run, items: [...waiting, ...newlyHeld] } };
}

interface Pending {
  user: SourceUser;
  version: number;
  /** The record to update, or null to find-or-create. */
  remoteId: string | null;
  /** True when reconciliation matched the record just now (logged as `link`). */
  matched: boolean;
  payload: Record<string, unknown>;
  hash: string;
  note: string | null;
}

/** The mapped fields whose value in the Zoho record differs from the payload. */
function driftedFields(payload: Record<string, unknown>, remote: Record<string, unknown>): string[] {
  return Object.keys(payload).filter((k) => JSON.stringify(payload[k] ?? null) !== JSON.stringify(remote[k] ?? null));
}

/**
 * Pushes the people of one integration's jobs to Zoho CRM records, exactly once:
 * scope, mapping and hash per person (unchanged → `skip`, no call); an existing link is
 * updated; otherwise the matching key is looked up (case-sensitively by default) and a
 * match is linked, else created by upsert with the duplicate check, so a retry after an
 * unknown outcome finds the record instead of making a second one. Writes go ≤ 100 per
 * call; what each create call made is stored as soon as it answers, and every link and
 * one log line per action are written in one batch at the end.
 * A request-level failure (429, 5xx, network, token) leaves everything to a retry.
 */
export async function pushGroup(db: Db, env: Env, integration: Integration, userIds: string[], opts: PushOptions = {}): Promise<GroupOutcome> {
  const config = integration.config;
  const module = config.object;
  const now = Date.now();
  const counts = noCounts();
  const [users, existing] = await Promise.all([usersByIds(db, integration.tenantId, userIds), linksByUsers(db, integration.id, userIds)]);
  const linkOf = new Map(existing.map((l) => [l.userId, l]));
  const linkRows: LinkRow[] = [];
  const logRows: LogRow[] = [];
  const removed: string[] = [];
  const log = (userId: string, action: LogRow["action"], status: LogRow["status"], detail: string | null, remoteId: string | null = null) =>
    logRows.push({ tenantId: integration.tenantId, integrationId: integration.id, userId, action, status, remoteId, detail, at: now });
  const linkRow = (userId: string, fields: Partial<LinkRow>): LinkRow => ({
    tenantId: integration.tenantId,
    integrationId: integration.id,
    userId,
    remoteId: linkOf.get(userId)?.remoteId ?? null,
    remoteUrl: linkOf.get(userId)?.remoteUrl ?? null,
    status: "pending",
    payloadHash: linkOf.get(userId)?.payloadHash ?? null,
    pushedVersion: linkOf.get(userId)?.pushedVersion ?? null,
    lastError: null,
    failureKind: null,
    lastSyncedAt: linkOf.get(userId)?.lastSyncedAt ?? null,
    manual: linkOf.get(userId)?.manual ?? null,
    updatedAt: now,
    ...fields,
  });

  const toWrite: Pending[] = [];
  const toDelete: { userId: string; remoteId: string; version: number }[] = [];
  const inactiveUnknown: { row: (typeof users)[number]; user: SourceUser }[] = [];
  /** Inactive people and a record found for them that is not linked yet. */
  const inactiveFound: { row: (typeof users)[number]; record: RemoteRecord; note: string }[] = [];
  for (const row of users) {
    const user: SourceUser = userView(row);
    let link = linkOf.get(row.id);
    const seen = opts.seen?.get(row.id);
    if (seen === null && link?.remoteId) {
      // Deleted in Zoho: forget the record, so that it is created again.
      link = { ...link, remoteId: null, remoteUrl: null, payloadHash: null };
      linkOf.set(row.id, link);
    }
    if (row.status !== "active") {
      if (seen && link?.remoteId !== seen.id) {
        // Reconciliation matched a record to this inactive person: the deletion policy reaches it.
        inactiveFound.push({ row, record: seen, note: `matched by ${config.matching.by} during reconciliation` });
        continue;
      }
      if (!link?.remoteId) {
        // A pending link may hide a create whose answer never came (Zoho stored it, then
        // failed): look the person up before forgetting them, so the policy reaches it.
        if (link?.status === "pending" && !opts.seen) inactiveUnknown.push({ row, user });
        else if (link) removed.push(row.id);
        continue;
      }
      // Disabled and deleted are different events: `delete` removes the records of deleted
      // people only; a disabled person's record is left as it is (records cannot be deactivated).
      // A removal settled for this version (left by an admin who cancelled it) stays settled.
      const settled = !opts.force && link.status === "synced" && link.pushedVersion === row.version;
      if (config.onDelete === "delete" && row.status === "deleted" && !settled) toDelete.push({ userId: row.id, remoteId: link.remoteId, version: row.version });
      else {
        counts.unchanged++;
        if (link.pushedVersion !== row.version) {
          linkRows.push(linkRow(row.id, { status: link.status, lastError: link.lastError, failureKind: link.failureKind, pushedVersion: row.version }));
          const why = config.onDelete === "delete" ? "onDelete is delete, which removes the records of deleted people only" : `onDelete is ${config.onDelete}`;
          log(row.id, "skip", "skipped", `${row.status}; ${why}; the remote record is left as it is`, link.remoteId);
        }
      }
      continue;
    }
    if (link?.manual === "unlinked" && !link.remoteId) {
      counts.unmatched++;
      if (link.pushedVersion !== row.version) {
        linkRows.push(linkRow(row.id, { status: "unmatched", lastError: link.lastError, pushedVersion: row.version }));
        log(row.id, "skip", "skipped", "unlinked by hand; link the person to a record to sync them");
      }
      continue;
    }
    const excluded = outOfScope(user, config.scope);
    if (excluded) {
      counts.excluded++;
      if (link?.status !== "excluded" || link.pushedVersion !== row.version) linkRows.push(linkRow(row.id, { status: "excluded", pushedVersion: row.version }));
      if (link?.status !== "excluded") log(row.id, "skip", "skipped", excluded);
      continue;
    }
    const mapped = await mapUser(user, config);
    if (!mapped.ok) {
      counts.failed++;
      linkRows.push(linkRow(row.id, { status: "failed", lastError: mapped.message, failureKind: "bad_data", pushedVersion: row.version }));
      log(row.id, link?.remoteId ? "update" : "create", "failed", mapped.message, link?.remoteId ?? null);
      continue;
    }
    const pending: Pending = { user, version: row.version, remoteId: link?.remoteId ?? null, matched: false, payload: mapped.payload, hash: mapped.hash, note: null };
    if (seen) {
      // Reconciliation: compare with what Zoho holds.
      const drifted = driftedFields(mapped.payload, seen.fields);
      if (link?.remoteId !== seen.id) Object.assign(pending, { remoteId: seen.id, matched: true, note: `matched by ${config.matching.by} during reconciliation` });
      else if (!drifted.length) {
        counts.unchanged++;
        if (link.status !== "synced" || link.payloadHash !== mapped.hash || link.pushedVersion !== row.version) {
          linkRows.push(linkRow(row.id, { status: "synced", payloadHash: mapped.hash, pushedVersion: row.version, lastSyncedAt: now }));
        }
        continue;
      } else pending.note = `changed in Zoho, put back: ${drifted.join(", ")}`;
    } else if (seen === null) {
      pending.note = "the Zoho record was deleted in Zoho; created again";
    } else if (!opts.force && link?.status === "synced" && link.remoteId && link.payloadHash === mapped.hash) {
      counts.unchanged++;
      log(row.id, "skip", "skipped", "unchanged", link.remoteId);
      if (link.pushedVersion !== row.version) linkRows.push(linkRow(row.id, { status: "synced", pushedVersion: row.version }));
      continue;
    }
    toWrite.push(pending);
  }

  try {
    const ctx = connectorContext(db, env, integration);
    // Only a write needs a record URL (and the org id behind it).
    const urlOf = toWrite.length || inactiveUnknown.length || inactiveFound.length ? await recordUrlMaker(ctx, module) : () => null;
    const keyField = config.mapping.find((m) => "from" in m && m.from === config.matching.by)?.to ?? "Email";
    const inactiveKey = (u: SourceUser) => {
      const value = u[config.matching.by];
      return typeof value === "string" ? value : null;
    };

    // Match the people without a remote record by the matching key.
    const unlinked = toWrite.filter((p) => !p.remoteId);
    const keys = [...unlinked.map((p) => p.payload[keyField]), ...inactiveUnknown.map((i) => inactiveKey(i.user))].filter((k): k is string => typeof k === "string");
    const found = keys.length ? await findByKeys(ctx, module, keyField, [...new Set(keys)], []) : [];
    const updates = toWrite.filter((p): p is Pending & { remoteId: string } => p.remoteId !== null);
    const creates: Pending[] = [];
    // One record, one person: a record linked to someone else is never matched again, and
    // two people of this group with one key do not both reach the same record.
    const holders = found.length ? await holdersOfRecords(db, integration.id, found.map((r) => r.id)) : new Map<string, string>();
    const keyOwners = new Map<string, string>();
    const normal = (key: string) => (config.matching.caseSensitive ? key : key.toLowerCase());
    const unmatchedBy = (p: Pending, message: string, remoteId: string | null) => {
      counts.unmatched++;
      linkRows.push(linkRow(p.user.id, { remoteId: null, remoteUrl: null, payloadHash: null, status: "unmatched", lastError: message, pushedVersion: p.version }));
      log(p.user.id, "link", "skipped", message, remoteId);
    };
    for (const p of unlinked) {
      const key = p.payload[keyField];
      if (typeof key !== "string") {
        counts.failed++;
        linkRows.push(linkRow(p.user.id, { status: "failed", lastError: `No ${keyField} to match by.`, failureKind: "bad_data", pushedVersion: p.version }));
        continue;
      }
      const sharer = keyOwners.get(normal(key));
      if (sharer) {
        unmatchedBy(p, `${keyField} ${key} is also ${sharer}'s; a record is linked to one person only. Give each person their own ${keyField}, or link this one by hand.`, null);
        continue;
      }
      keyOwners.set(normal(key), p.user.id);
      const exact = found.filter((r) => (config.matching.caseSensitive ? r.fields[keyField] === key : String(r.fields[keyField]).toLowerCase() === key.toLowerCase()));
      const holder = exact.map((r) => holders.get(r.id)).find((h) => h !== undefined && h !== p.user.id);
      if (holder) {
        const record = exact.find((r) => holders.get(r.id) === holder)!.id;
        unmatchedBy(p, `${keyField} ${key} is on record ${record}, which is linked to ${holder}; a record is linked to one person only. Unlink ${holder} or give this person another ${keyField}.`, record);
        continue;
      }
      if (exact.length) {
        updates.push({ ...p, remoteId: exact.sort((a, b) => a.id.localeCompare(b.id))[0]!.id, matched: true, note: p.note ?? `matched by ${config.matching.by}` });
        continue;
      }
      const twin = found.find((r) => String(r.fields[keyField]).toLowerCase() === key.toLowerCase());
      if (twin) {
        // Zoho's duplicate check ignores case: creating would merge into the twin.
        const message = `${keyField} ${key} matches only ${String(twin.fields[keyField])} (record ${twin.id}) in a different case; link it by hand or turn off case-sensitive matching.`;
        counts.unmatched++;
        linkRows.push(linkRow(p.user.id, { status: "unmatched", lastError: message, pushedVersion: p.version }));
        log(p.user.id, "link", "skipped", message, twin.id);
        continue;
      }
      creates.push(p);
    }

    // Inactive people whose create's outcome was unknown: the record Zoho made, if any,
    // gets the deletion policy like any linked record; none → the link is forgotten.
    for (const { row, user } of inactiveUnknown) {
      const key = inactiveKey(user);
      const record = key === null ? undefined : found.find((r) => (config.matching.caseSensitive ? r.fields[keyField] === key : String(r.fields[keyField]).toLowerCase() === key.toLowerCase()));
      const holder = record ? holders.get(record.id) : undefined;
      if (!record || (holder && holder !== row.id)) {
        removed.push(row.id);
        log(row.id, "skip", "skipped", `${row.status} before any record was confirmed; none found by ${config.matching.by}`);
        continue;
      }
      inactiveFound.push({ row, record, note: "found the record of a create whose answer never came" });
    }
    // A record found for an inactive person gets the deletion policy like any linked record.
    for (const { row, record, note } of inactiveFound) {
      if (config.onDelete === "delete" && row.status === "deleted") {
        toDelete.push({ userId: row.id, remoteId: record.id, version: row.version });
        continue;
      }
      counts.unchanged++;
      linkRows.push(linkRow(row.id, { remoteId: record.id, remoteUrl: urlOf(record.id), status: "synced", pushedVersion: row.version, lastSyncedAt: now }));
      log(row.id, "link", "ok", `${row.status}; ${note}; onDelete is ${config.onDelete}, which leaves the record of a ${row.status} person as it is`, record.id);
    }

    const removals = opts.removals ?? "hourly";
    if (toDelete.length && removals !== "approved") {
      const { go, held } = await guardRemovals(db, integration, toDelete, removals);
      toDelete.splice(0, toDelete.length, ...go);
      for (const d of held?.items ?? []) {
        const l = linkOf.get(d.userId);
        if (l?.status === "pending" && l.lastError?.includes(held!.run.id)) continue;
        const message = `The removal of this record is held by the mass-change guard: approve or cancel run ${held!.run.id}.`;
        linkRows.push(linkRow(d.userId, { remoteId: d.remoteId, status: "pending", lastError: message, pushedVersion: d.version }));
        log(d.userId, "delete", "skipped", message, d.remoteId);
      }
    }
    for (let i = 0; i < updates.length; i += WRITE_BATCH) {
      const part = updates.slice(i, i + WRITE_BATCH);
      const results = await updateRecords(ctx, module, part.map((p) => ({ ...p.payload, id: p.remoteId })));
      part.forEach((p, j) => settle(p, results[j]!, p.matched ? "link" : "update", p.remoteId));
    }
    for (let i = 0; i < creates.length; i += WRITE_BATCH) {
      const part = creates.slice(i, i + WRITE_BATCH);
      const results = await upsertRecords(ctx, module, part.map((p) => p.payload), [keyField]);
      const [linksBefore, logsBefore] = [linkRows.length, logRows.length];
      part.forEach((p, j) => settle(p, results[j]!, "create", null));
      // What a create made is stored at once, before any further call: a process that dies
      // during a later call (a slow delete, the next batch) cannot orphan these records.
      // Their log lines are written now only; the links are written again, unchanged, below.
      await saveOutcomes(db, linkRows.slice(linksBefore), logRows.splice(logsBefore), null);
    }
    for (let i = 0; i < toDelete.length; i += WRITE_BATCH) {
      const part = toDelete.slice(i, i + WRITE_BATCH);
      const results = await deleteRecords(ctx, module, part.map((d) => d.remoteId));
      part.forEach((d, j) => {
        const r = results[j]!;
        if (r.ok) {
          counts.disabled++;
          removed.push(d.userId);
          log(d.userId, "delete", "ok", "deleted with the directory user (onDelete is delete)", d.remoteId);
        } else {
          counts.failed++;
          log(d.userId, "delete", "failed", `Zoho: ${r.message} (${r.code})`, d.remoteId);
        }
      });
    }

    function settle(p: Pending, r: RecordOutcome, action: "create" | "update" | "link", remoteId: string | null) {
      if (r.ok) {
        const id = r.id || remoteId!;
        const linked = action === "link" || (action === "create" && r.action === "update");
        if (linked) counts.linked++;
        else if (action === "create") counts.created++;
        else counts.updated++;
        linkRows.push(linkRow(p.user.id, { remoteId: id, remoteUrl: urlOf(id), status: "synced", payloadHash: p.hash, pushedVersion: p.version, lastSyncedAt: now }));
        log(p.user.id, linked ? "link" : action, "ok", p.note ?? (linked ? `matched by ${config.matching.by}` : null), id);
        return;
      }
      counts.failed++;
      if (remoteId && r.code === "INVALID_DATA" && r.field === "id") {
        // The record was deleted in Zoho: forget it, so the next push creates it again.
        linkRows.push(linkRow(p.user.id, { remoteId: null, remoteUrl: null, payloadHash: null, status: "failed", lastError: "The Zoho record no longer exists; it will be created again.", failureKind: "retry" }));
        log(p.user.id, action, "failed", "the Zoho record no longer exists", remoteId);
        return;
      }
      const message = `Zoho: ${r.message} (${r.code}${r.field ? `, field ${r.field}` : ""})`;
      linkRows.push(linkRow(p.user.id, { status: "failed", lastError: message, failureKind: "bad_data", pushedVersion: p.version }));
      log(p.user.id, action, "failed", message, remoteId);
    }
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    // Nothing is written for the people still to push; the links say why they wait.
    const settled = new Set(linkRows.map((l) => l.userId));
    const waiting = toWrite.filter((p) => !settled.has(p.user.id)).map((p) => linkRow(p.user.id, { status: "pending", lastError: err.detail, failureKind: "retry" }));
    await saveOutcomes(db, [...linkRows, ...waiting], logRows, null, opts.alongside?.(counts, false) ?? []);
    const { stop, pause } = handlingOf(err);
    if (stop) return { kind: "stopped", reason: err.detail, counts };
    return { kind: "retry", delayMs: err.retryAfterMs, reason: err.detail, pause, counts };
  }
  // A newer version arrived while this push was writing an older one: its push may have
  // landed first, so Zoho may now hold the older values. Push those people again.
  const written = new Map(linkRows.filter((l) => l.status === "synced" && l.pushedVersion !== null).map((l) => [l.userId, l.pushedVersion!]));
  const overtaken = written.size ? (await usersByIds(db, integration.tenantId, [...written.keys()])).filter((u) => u.version > written.get(u.id)!) : [];
  const again = overtaken.length ? [forgetHashesStatement(db, integration.id, overtaken.map((u) => u.id))] : [];
  await saveOutcomes(db, linkRows, logRows, removed.length ? { integrationId: integration.id, userIds: removed } : null, [...(opts.alongside?.(counts, true) ?? []), ...again]);
  if (overtaken.length) {
    await env.JOBS.sendBatch(
      overtaken.map((u) => ({ body: { kind: "push", tenantId: u.tenantId, integrationId: integration.id, userId: u.id, version: u.version, reason: "sweep" } satisfies PushJob, contentType: "json" as const })),
    );
  }
  return { kind: "done", counts };
}

/** Only Zoho CRM records are pushed so far. */
export function canPush(integration: Integration): boolean {
  return integration.provider === "zoho-crm" && integration.connection !== null;
}
