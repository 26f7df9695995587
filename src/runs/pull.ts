import { handlingOf, ProviderError } from "../connectors";
import type { PulledPage, PulledRecord } from "../connectors/contract";
import type { Db } from "../db/client";
import { pullCursorStatement, unseenPeople, usersByExactEmails } from "../db/pull.repo";
import { advanceRunStatement } from "../db/runs.repo";
import type { LinkRow, RunRow } from "../db/schema";
import { holdersOfRecords, saveOutcomes, usersByIds } from "../db/sync.repo";
import { noCounts, type RunCounts } from "../db/vocabulary";
import { applyChanges, storageFailure, type Change } from "../directory/ingest";
import { userView } from "../directory/user";
import type { Env } from "../env";
import { connectorContext } from "../integrations/connector-context";
import type { Integration } from "../integrations/store";
import { PROFILE_FIELDS, type UserRef } from "../lib/user-fields";
import type { LogRow } from "../sync/outcomes";
import { holdForApproval, pullLeaversHold } from "../sync/guard";
import { sourceOf } from "../sync/target";
import type { PageResult } from "./page-result";
import { runCompletedStatements } from "./start";
import { pullStateOf, type PullState } from "./pull-state";

/**
 * How far before the pull's start the next incremental pull looks back: a record changed
 * while the pull was paging may have moved past the page being read, and the provider's
 * clock may be behind the hub's. Reading a change twice is harmless (same version).
 */
const OVERLAP_MS = 60_000;
/** Leavers disabled a page. */
const LEAVERS_PAGE = 500;

/**
 * One page of a pull: a page of the source's records into the directory through the one
 * change path (`applyChanges`, the record's modified time as the version, so a stale pull
 * never overwrites a newer webhook), each person's source link written beside. A full
 * pull's last pages disable the people it did not see, past the mass-change guard; only
 * a completed pull moves the integration's cursor.
 */
export async function pullPage(db: Db, env: Env, integration: Integration, run: RunRow): Promise<PageResult> {
  const source = sourceOf(integration);
  if (!source) throw new ProviderError("fatal", `${integration.provider} is not a source.`);
  const state = pullStateOf(run);
  if (state.phase === "leavers") return leaversPage(db, env, integration, run, state);
  const ctx = connectorContext(db, env, integration);
  let page: PulledPage;
  try {
    page = await source.pull.pull(ctx, { since: state.since, offset: state.offset });
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    return failure(err);
  }
  const counts = await takeRecords(db, env, integration, page.records);
  // The provider's offset counts every entry it returned, those left out included.
  const next: PullState = { ...state, offset: state.offset + page.read };
  if (page.more) {
    await db.batch([advanceRunStatement(db, run, counts, { cursor: JSON.stringify(next), done: false })]);
    return { kind: "done", counts, more: true };
  }
  if (!state.full) {
    await db.batch([advanceRunStatement(db, run, counts, { cursor: JSON.stringify(next), done: true }), ...finishStatements(db, integration, run, counts)]);
    return { kind: "done", counts, more: false };
  }
  // Read to the end: the next pages disable the people this full pull did not see, past the guard.
  await db.batch([advanceRunStatement(db, run, counts, { cursor: JSON.stringify({ ...next, phase: "leavers" }), done: false })]);
  const problem = run.approved ? null : await pullLeaversHold(db, integration, run.startedAt);
  if (!problem) return { kind: "done", counts, more: true };
  await holdForApproval(db, env, integration, { ...run, page: run.page + 1 }, problem);
  return { kind: "done", counts, more: false, held: true };
}

/** What ends a completed pull, in its last page's batch: the next incremental pull's start, and `run.completed`. */
function finishStatements(db: Db, integration: Integration, run: RunRow, counts: RunCounts) {
  return [pullCursorStatement(db, integration.id, run.startedAt - OVERLAP_MS), ...runCompletedStatements(db, integration, run, counts)];
}

function failure(err: ProviderError): PageResult {
  const { stop, pause } = handlingOf(err);
  if (stop) return { kind: "stopped", reason: err.detail, counts: noCounts() };
  // A throttle or a lock: the page waits it out without spending a retry.
  if (err.kind === "retryAfter" && err.retryAfterMs !== undefined) return { kind: "later", delayMs: err.retryAfterMs, reason: err.detail, counts: noCounts() };
  return { kind: "retry", delayMs: err.retryAfterMs, reason: err.detail, pause, counts: noCounts() };
}

/** Disables, a page at a time, the people the full pull did not see (they left, or vanished from the source). */
async function leaversPage(db: Db, env: Env, integration: Integration, run: RunRow, state: PullState): Promise<PageResult> {
  const ids = await unseenPeople(db, integration, run.startedAt, state.after, LEAVERS_PAGE);
  const now = Date.now();
  const counts = noCounts();
  if (ids.length) {
    const results = await applyChanges(
      db,
      env.PUSH_BATCHES,
      integration.tenantId,
      ids.map((id): Change => ({ kind: "disable", user: { id }, at: now, reason: "pull" })),
      { waitUntil: (p) => void p },
    );
    // A storage failure moves nothing on: the page is tried again whole (the queue's retry).
    const failure = storageFailure(results);
    if (failure !== undefined) throw failure;
    for (const r of results) {
      if (r.status === "rejected") counts.failed++;
      else if (r.value.outcome === "applied") counts.disabled++;
      else counts.unchanged++;
    }
    const logs: LogRow[] = ids.map((userId) => ({ tenantId: integration.tenantId, integrationId: integration.id, userId, action: "disable", status: "ok", remoteId: null, detail: `not in the full pull of ${integration.name}: disabled in the directory`, at: now }));
    await saveOutcomes(db, [], logs, null);
  }
  const more = ids.length === LEAVERS_PAGE;
  const next: PullState = { ...state, after: ids[ids.length - 1] ?? state.after };
  await db.batch([
    advanceRunStatement(db, run, counts, { cursor: JSON.stringify(next), done: !more }),
    ...(more ? [] : finishStatements(db, integration, run, counts)),
  ]);
  return { kind: "done", counts, more };
}

/** The fields of a directory person a source does not manage, kept as they are. */
function keptFields(existing: ReturnType<typeof userView> | undefined): Partial<UserRef> {
  if (!existing) return {};
  const kept: Record<string, unknown> = { firstName: existing.firstName, lastName: existing.lastName, attributes: existing.attributes };
  for (const f of PROFILE_FIELDS) kept[f] = (existing as Record<string, unknown>)[f];
  return kept as Partial<UserRef>;
}

/** Whether the directory holds the person as the source has them (an inactive one: already not active). */
function sameAsHeld(held: ReturnType<typeof userView>, user: UserRef, active: boolean): boolean {
  if (!active) return held.status !== "active";
  if (held.status !== "active") return false;
  const view = held as Record<string, unknown>;
  return Object.entries(user).every(([k, value]) => k === "status" || JSON.stringify(value ?? null) === JSON.stringify(view[k] ?? null));
}

/**
 * Takes a page of records into the directory. The person of a record: the one linked to
 * it, else the directory person with exactly its e-mail, else a new person with the
 * source's id (People's EmployeeID). A record that would land on someone else is left
 * out with the reason.
 */
async function takeRecords(db: Db, env: Env, integration: Integration, pulled: PulledRecord[]): Promise<RunCounts> {
  const counts = noCounts();
  const now = Date.now();
  // The latest of two records of one person on a page wins.
  const records = [...pulled].sort((a, b) => a.modifiedAt - b.modifiedAt);
  const holders = await holdersOfRecords(db, integration.id, records.map((r) => r.remoteId));
  const byEmail = await usersByExactEmails(db, integration.tenantId, records.map((r) => r.user.email));
  const candidates = records.map((r) => holders.get(r.remoteId) ?? byEmail.get(r.user.email)?.id ?? r.personId);
  const existing = new Map((await usersByIds(db, integration.tenantId, candidates)).map((u) => [u.id, u]));
  const logs: LogRow[] = [];
  const log = (userId: string, action: LogRow["action"], status: LogRow["status"], detail: string, remoteId: string) =>
    logs.push({ tenantId: integration.tenantId, integrationId: integration.id, userId, action, status, remoteId, detail, at: now });
  const chosen = new Map<string, { record: PulledRecord; change: Change }>();
  const unchanged: { userId: string; record: PulledRecord }[] = [];
  records.forEach((record, i) => {
    const userId = candidates[i]!;
    const row = existing.get(userId);
    const linkedHere = holders.get(record.remoteId) === userId;
    if (row && !linkedHere && row.email !== record.user.email) {
      counts.unmatched++;
      log(userId, "link", "skipped", `${record.personId} (${record.user.email}) is the id of another directory person (${row.email}); link the record by hand or change the id`, record.remoteId);
      return;
    }
    const held = row ? userView(row) : undefined;
    const user = { ...keptFields(held), ...record.user, id: userId, ...(record.active ? { status: "active" as const } : {}) } as UserRef;
    if (held && sameAsHeld(held, user, record.active)) {
      // Nothing new: no change, no push jobs (a daily full pull reads everyone).
      counts.unchanged++;
      unchanged.push({ userId, record });
      return;
    }
    const change: Change = record.active ? { kind: "upsert", user, at: record.modifiedAt || null, reason: "pull" } : { kind: "disable", user: { id: userId }, at: record.modifiedAt || null, reason: "pull" };
    chosen.set(userId, { record, change });
  });
  const taken = [...chosen.values()];
  const results = await applyChanges(db, env.PUSH_BATCHES, integration.tenantId, taken.map((t) => t.change), { waitUntil: (p) => void p });
  const linkRows: LinkRow[] = [];
  const linkRow = (userId: string, record: PulledRecord): LinkRow => ({
    tenantId: integration.tenantId,
    integrationId: integration.id,
    userId,
    remoteId: record.remoteId,
    remoteUrl: null,
    status: "synced",
    payloadHash: null,
    pushedVersion: null,
    lastError: record.problems.join(" ") || null,
    failureKind: null,
    lastSyncedAt: now,
    manual: null,
    updatedAt: now,
  });
  for (const u of unchanged) linkRows.push(linkRow(u.userId, u.record));
  // A storage failure moves nothing on: the page is tried again whole (the queue's retry).
  const failure = storageFailure(results);
  if (failure !== undefined) throw failure;
  taken.forEach(({ record, change }, i) => {
    const r = results[i]!;
    const userId = change.user.id;
    if (r.status === "rejected") {
      counts.failed++;
      log(userId, "update", "failed", `the directory could not take the record: ${String(r.reason)}`, record.remoteId);
      return;
    }
    if (r.value.outcome !== "applied") counts.unchanged++;
    else if (change.kind === "disable") counts.disabled++;
    else if (r.value.created) counts.created++;
    else counts.updated++;
    // Someone the directory never held who is not active (left before the first pull):
    // remembered as gone by the directory, and no link to a person who does not exist.
    if (change.kind === "disable" && !existing.has(userId)) return;
    for (const problem of record.problems) log(userId, "skip", "skipped", problem, record.remoteId);
    linkRows.push(linkRow(userId, record));
  });
  await saveOutcomes(db, linkRows, logs, null);
  return counts;
}
