import type { PulledRecord } from "../connectors/contract";
import type { Db } from "../db/client";
import { usersByExactEmails } from "../db/pull.repo";
import { holdersOfRecords, usersByIds } from "../db/sync.repo";
import type { RunCounts } from "../db/vocabulary";
import { applyChanges, storageFailure, type Change } from "../directory/ingest";
import { userView } from "../directory/user";
import type { Env } from "../env";
import type { Integration } from "../integrations/store";
import { PROFILE_FIELDS, type UserRef } from "../lib/user-fields";
import { Outcomes } from "./outcomes";

/**
 * The pull engine, beside the push engine: what a source's records become in the
 * directory. Who a pulled record is (the person linked to it, else the person with exactly
 * its e-mail, else a new person with the source's id), what changes (through the one
 * change path, `applyChanges`, with the record's modified time as the version, so a stale
 * pull never overwrites a newer webhook), the source's links and the log lines (through
 * `Outcomes`, as pushes record theirs), and the leavers of a full pull. `runs/pull.ts`
 * pages through the source and calls it; the leavers pass the mass-change guard
 * (`sync/guard.ts`) first.
 */

/** Disables the people a full pull did not see (they left, or vanished from the source); answers the counts. */
export async function disableLeavers(db: Db, env: Env, integration: Integration, ids: string[]): Promise<RunCounts> {
  const now = Date.now();
  const out = new Outcomes(integration, now, new Map(), new Map(), { events: false });
  if (!ids.length) return out.counts;
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
    if (r.status === "rejected") out.counts.failed++;
    else if (r.value.outcome === "applied") out.counts.disabled++;
    else out.counts.unchanged++;
  }
  for (const userId of ids) out.log(userId, "disable", "ok", `not in the full pull of ${integration.name}: disabled in the directory`);
  await out.save(db, { alongside: [], finished: true });
  return out.counts;
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
export async function takePulled(db: Db, env: Env, integration: Integration, pulled: PulledRecord[]): Promise<RunCounts> {
  const now = Date.now();
  const out = new Outcomes(integration, now, new Map(), new Map(), { events: false });
  const counts = out.counts;
  // The latest of two records of one person on a page wins.
  const records = [...pulled].sort((a, b) => a.modifiedAt - b.modifiedAt);
  const holders = await holdersOfRecords(db, integration.id, records.map((r) => r.remoteId));
  const byEmail = await usersByExactEmails(db, integration.tenantId, records.map((r) => r.user.email));
  const candidates = records.map((r) => holders.get(r.remoteId) ?? byEmail.get(r.user.email)?.id ?? r.personId);
  const existing = new Map((await usersByIds(db, integration.tenantId, candidates)).map((u) => [u.id, u]));
  const chosen = new Map<string, { record: PulledRecord; change: Change }>();
  const unchanged: { userId: string; record: PulledRecord }[] = [];
  records.forEach((record, i) => {
    const userId = candidates[i]!;
    const row = existing.get(userId);
    const linkedHere = holders.get(record.remoteId) === userId;
    if (row && !linkedHere && row.email !== record.user.email) {
      counts.unmatched++;
      out.log(userId, "link", "skipped", `${record.personId} (${record.user.email}) is the id of another directory person (${row.email}); link the record by hand or change the id`, record.remoteId);
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
  // The source's link: the record the person was pulled from, with what was left out of it.
  const linkTo = (userId: string, record: PulledRecord) =>
    out.link(userId, { remoteId: record.remoteId, remoteUrl: null, status: "synced", payloadHash: null, pushedVersion: null, lastError: record.problems.join(" ") || null, lastSyncedAt: now, manual: null });
  for (const u of unchanged) linkTo(u.userId, u.record);
  // A storage failure moves nothing on: the page is tried again whole (the queue's retry).
  const failure = storageFailure(results);
  if (failure !== undefined) throw failure;
  taken.forEach(({ record, change }, i) => {
    const r = results[i]!;
    const userId = change.user.id;
    if (r.status === "rejected") {
      counts.failed++;
      out.log(userId, "update", "failed", `the directory could not take the record: ${String(r.reason)}`, record.remoteId);
      return;
    }
    if (r.value.outcome !== "applied") counts.unchanged++;
    else if (change.kind === "disable") counts.disabled++;
    else if (r.value.created) counts.created++;
    else counts.updated++;
    // Someone the directory never held who is not active (left before the first pull):
    // remembered as gone by the directory, and no link to a person who does not exist.
    if (change.kind === "disable" && !existing.has(userId)) return;
    for (const problem of record.problems) out.log(userId, "skip", "skipped", problem, record.remoteId);
    linkTo(userId, record);
  });
  await out.save(db, { alongside: [], finished: true });
  return counts;
}
