import { ProviderError } from "../connectors";
import type { ConnectorContext } from "../connectors/zoho/client";
import { deleteRecords, fetchOrgId, findByKeys, recordUrl, updateRecords, upsertRecords, WRITE_BATCH, type RecordOutcome } from "../connectors/zoho/records";
import type { Db } from "../db/client";
import { updateIntegration, type Integration } from "../db/integrations.repo";
import type { LinkRow, syncLogs } from "../db/schema";
import { linksByUsers, saveOutcomes, usersByIds } from "../db/sync.repo";
import { userView } from "../directory/user";
import type { Env } from "../env";
import { settings } from "../settings";
import { mapUser, outOfScope, type SourceUser } from "./mapping";

type LogRow = typeof syncLogs.$inferInsert;

/** What became of a group of jobs: done, or to be tried again after `delayMs`. */
export type GroupOutcome = { kind: "done" } | { kind: "retry"; delayMs: number | undefined; reason: string; pause: boolean };

interface Pending {
  user: SourceUser;
  version: number;
  link: LinkRow | undefined;
  payload: Record<string, unknown>;
  hash: string;
}

/**
 * Pushes the people of one integration's jobs to Zoho CRM records, exactly once:
 * scope, mapping and hash per person (unchanged → `skip`, no call); an existing link is
 * updated; otherwise the matching key is looked up (case-sensitively by default) and a
 * match is linked, else created by upsert with the duplicate check, so a retry after an
 * unknown outcome finds the record instead of making a second one. Writes go ≤ 100 per
 * call; every link and one log line per action are written in one batch at the end.
 * A request-level failure (429, 5xx, network, token) leaves everything to a retry.
 */
export async function pushGroup(db: Db, env: Env, integration: Integration, userIds: string[]): Promise<GroupOutcome> {
  const ctx: ConnectorContext = { db, env, integration };
  const config = integration.config;
  const module = config.object;
  const now = Date.now();
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
    updatedAt: now,
    ...fields,
  });

  const toWrite: Pending[] = [];
  const toDelete: { userId: string; remoteId: string }[] = [];
  for (const row of users) {
    const user = userView(row) as unknown as SourceUser;
    const link = linkOf.get(row.id);
    if (row.status !== "active") {
      if (!link?.remoteId) continue;
      if (config.onDelete === "delete") toDelete.push({ userId: row.id, remoteId: link.remoteId });
      else log(row.id, "skip", "skipped", `${row.status}; onDelete is ${config.onDelete}, the remote record is left as it is`, link.remoteId);
      continue;
    }
    const excluded = outOfScope(user, config.scope);
    if (excluded) {
      if (link?.status !== "excluded") {
        linkRows.push(linkRow(row.id, { status: "excluded", lastError: null }));
        log(row.id, "skip", "skipped", excluded);
      }
      continue;
    }
    const mapped = await mapUser(user, config);
    if (!mapped.ok) {
      linkRows.push(linkRow(row.id, { status: "failed", lastError: mapped.message, failureKind: "bad_data" }));
      log(row.id, link?.remoteId ? "update" : "create", "failed", mapped.message, link?.remoteId ?? null);
      continue;
    }
    if (link?.status === "synced" && link.remoteId && link.payloadHash === mapped.hash) {
      log(row.id, "skip", "skipped", "unchanged", link.remoteId);
      if (link.pushedVersion !== row.version) linkRows.push(linkRow(row.id, { status: "synced", pushedVersion: row.version }));
      continue;
    }
    toWrite.push({ user, version: row.version, link, payload: mapped.payload, hash: mapped.hash });
  }

  try {
    // Only a write needs a record URL (and the org id behind it).
    const urlOf = toWrite.length ? await recordUrlMaker(ctx, module) : () => null;
    const keyField = config.mapping.find((m) => "from" in m && m.from === config.matching.by)?.to ?? "Email";

    // Match the people without a remote record by the matching key.
    const unlinked = toWrite.filter((p) => !p.link?.remoteId);
    const keys = unlinked.map((p) => p.payload[keyField]).filter((k): k is string => typeof k === "string");
    const found = keys.length ? await findByKeys(ctx, module, keyField, [...new Set(keys)], []) : [];
    const updates: (Pending & { remoteId: string; linked: boolean })[] = toWrite.filter((p) => p.link?.remoteId).map((p) => ({ ...p, remoteId: p.link!.remoteId!, linked: false }));
    const creates: Pending[] = [];
    for (const p of unlinked) {
      const key = p.payload[keyField];
      if (typeof key !== "string") {
        linkRows.push(linkRow(p.user.id, { status: "failed", lastError: `No ${keyField} to match by.`, failureKind: "bad_data" }));
        continue;
      }
      const exact = found.filter((r) => (config.matching.caseSensitive ? r.fields[keyField] === key : String(r.fields[keyField]).toLowerCase() === key.toLowerCase()));
      if (exact.length) {
        updates.push({ ...p, remoteId: exact.sort((a, b) => a.id.localeCompare(b.id))[0]!.id, linked: true });
        continue;
      }
      const twin = found.find((r) => String(r.fields[keyField]).toLowerCase() === key.toLowerCase());
      if (twin) {
        // Zoho's duplicate check ignores case: creating would merge into the twin.
        const message = `${keyField} ${key} matches only ${String(twin.fields[keyField])} (record ${twin.id}) in a different case; link it by hand or turn off case-sensitive matching.`;
        linkRows.push(linkRow(p.user.id, { status: "unmatched", lastError: message }));
        log(p.user.id, "link", "skipped", message, twin.id);
        continue;
      }
      creates.push(p);
    }

    for (let i = 0; i < updates.length; i += WRITE_BATCH) {
      const part = updates.slice(i, i + WRITE_BATCH);
      const results = await updateRecords(ctx, module, part.map((p) => ({ ...p.payload, id: p.remoteId })));
      part.forEach((p, j) => settle(p, results[j]!, p.linked ? "link" : "update", p.remoteId));
    }
    for (let i = 0; i < creates.length; i += WRITE_BATCH) {
      const part = creates.slice(i, i + WRITE_BATCH);
      const results = await upsertRecords(ctx, module, part.map((p) => p.payload), [keyField]);
      part.forEach((p, j) => settle(p, results[j]!, "create", null));
    }
    for (let i = 0; i < toDelete.length; i += WRITE_BATCH) {
      const part = toDelete.slice(i, i + WRITE_BATCH);
      const results = await deleteRecords(ctx, module, part.map((d) => d.remoteId));
      part.forEach((d, j) => {
        const r = results[j]!;
        if (r.ok) {
          removed.push(d.userId);
          log(d.userId, "delete", "ok", "deleted with the directory user (onDelete is delete)", d.remoteId);
        } else {
          log(d.userId, "delete", "failed", `Zoho: ${r.message} (${r.code})`, d.remoteId);
        }
      });
    }

    function settle(p: Pending, r: RecordOutcome, action: "create" | "update" | "link", remoteId: string | null) {
      if (r.ok) {
        const id = r.id || remoteId!;
        linkRows.push(linkRow(p.user.id, { remoteId: id, remoteUrl: urlOf(id), status: "synced", payloadHash: p.hash, pushedVersion: p.version, lastSyncedAt: now }));
        log(p.user.id, action === "create" && r.action === "update" ? "link" : action, "ok", action === "link" ? `matched by ${config.matching.by}` : null, id);
        return;
      }
      if (remoteId && r.code === "INVALID_DATA" && r.field === "id") {
        // The record was deleted in Zoho: forget it, so the next push creates it again.
        linkRows.push(linkRow(p.user.id, { remoteId: null, remoteUrl: null, payloadHash: null, status: "failed", lastError: "The Zoho record no longer exists; it will be created again.", failureKind: "retry" }));
        log(p.user.id, action, "failed", "the Zoho record no longer exists", remoteId);
        return;
      }
      const message = `Zoho: ${r.message} (${r.code}${r.field ? `, field ${r.field}` : ""})`;
      linkRows.push(linkRow(p.user.id, { status: "failed", lastError: message, failureKind: "bad_data" }));
      log(p.user.id, action, "failed", message, remoteId);
    }
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    // Nothing is written for the people still to push; the links say why they wait.
    const waitingIds = new Set(toWrite.map((p) => p.user.id));
    const waiting = toWrite.map((p) => linkRow(p.user.id, { status: "pending", lastError: err.detail, failureKind: "retry" }));
    await saveOutcomes(db, [...linkRows.filter((l) => !waitingIds.has(l.userId)), ...waiting], logRows, null);
    if (err.kind === "reauth") return { kind: "done" };
    return { kind: "retry", delayMs: err.retryAfterMs, reason: err.detail, pause: err.retryAfterMs !== undefined && /TOO_MANY_REQUESTS|429/i.test(err.detail) };
  }
  await saveOutcomes(db, linkRows, logRows, removed.length ? { integrationId: integration.id, userIds: removed } : null);
  return { kind: "done" };
}

/** Record URLs need the org id (fetched once, kept on the connection) and the data centre's CRM host. */
async function recordUrlMaker(ctx: ConnectorContext, module: string): Promise<(id: string) => string | null> {
  const connection = ctx.integration.connection!;
  const dc = settings(ctx.env).zohoDataCenters.find((d) => d.id === connection.dataCenter);
  if (!dc?.crm) return () => null;
  let orgId = connection.orgId;
  if (!orgId) {
    orgId = await fetchOrgId(ctx);
    await updateIntegration(ctx.db, ctx.integration.tenantId, ctx.integration.id, { connection: { ...connection, orgId } });
  }
  const crm = dc.crm;
  const org = orgId;
  return (id) => recordUrl(crm, org, module, id);
}

/** Only Zoho CRM records are pushed so far. */
export function canPush(integration: Integration): boolean {
  return integration.provider === "zoho-crm" && integration.connection !== null;
}
