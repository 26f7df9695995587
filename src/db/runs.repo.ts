import * as v from "valibot";
import { and, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { iso } from "../lib/time";
import { newId } from "../lib/ids";
import type { Db } from "./client";
import { runs, type RunRow } from "./schema";
import { COUNT_KEYS, noCounts, type RunCounts } from "./vocabulary";

export type RunKind = "resync" | "reconcile" | "pull";

export async function getRun(db: Db, tenantId: string, id: string): Promise<RunRow | null> {
  const [row] = await db.select().from(runs).where(and(eq(runs.tenantId, tenantId), eq(runs.id, id)));
  return row ?? null;
}

/** The cursor key of a run in the newest-first list: start time, then id. */
export function runCursorKey(run: RunRow): string {
  return `${String(run.startedAt).padStart(15, "0")}:${run.id}`;
}

/** A tenant's runs, newest first, optionally of one integration, kind or status. */
export async function listRuns(
  db: Db,
  tenantId: string,
  filter: { integrationId?: string; kind?: RunRow["kind"]; status?: RunRow["status"] },
  after: string | null,
  limit: number,
): Promise<RunRow[]> {
  const [startedAt, id] = after?.split(":") ?? [];
  const before = startedAt && id ? or(lt(runs.startedAt, Number(startedAt)), and(eq(runs.startedAt, Number(startedAt)), lt(runs.id, id))) : undefined;
  return db
    .select()
    .from(runs)
    .where(
      and(
        eq(runs.tenantId, tenantId),
        filter.integrationId ? eq(runs.integrationId, filter.integrationId) : undefined,
        filter.kind ? eq(runs.kind, filter.kind) : undefined,
        filter.status ? eq(runs.status, filter.status) : undefined,
        before,
      ),
    )
    .orderBy(desc(runs.startedAt), desc(runs.id))
    .limit(limit + 1);
}

/** The integration's run of this kind that is still running or held, if any. */
export async function openRun(db: Db, integrationId: string, kind: RunKind): Promise<RunRow | null> {
  const [row] = await db
    .select()
    .from(runs)
    .where(and(eq(runs.integrationId, integrationId), eq(runs.kind, kind), eq(runs.removals, 0), inArray(runs.status, ["running", "held"])))
    .orderBy(desc(runs.startedAt))
    .limit(1);
  return row ?? null;
}

/** The integration's latest run of a kind, whatever its status. */
export async function latestRun(db: Db, integrationId: string, kind: RunKind): Promise<RunRow | null> {
  const [row] = await db.select().from(runs).where(and(eq(runs.integrationId, integrationId), eq(runs.kind, kind))).orderBy(desc(runs.startedAt)).limit(1);
  return row ?? null;
}

function addCounts(counts: RunCounts) {
  return Object.fromEntries(COUNT_KEYS.map((k) => [k, sql`${runs[k]} + ${counts[k]}`])) as Record<keyof RunCounts, ReturnType<typeof sql>>;
}

/** A run's counts so far. */
export function countsOf(run: RunRow): RunCounts {
  const counts = noCounts();
  for (const k of COUNT_KEYS) counts[k] = run[k];
  return counts;
}

/**
 * The statement that records a finished page: adds its counts, moves to the next page
 * (or ends the run), only if the run is still on this page and running, so a page
 * handled twice is counted once.
 */
export function advanceRunStatement(db: Db, run: RunRow, counts: RunCounts, next: { cursor: string | null; done: boolean }) {
  const now = Date.now();
  return db
    .update(runs)
    .set({ ...addCounts(counts), page: run.page + 1, cursor: next.cursor, movedAt: now, ...(next.done ? { status: "done" as const, finishedAt: now } : {}) })
    .where(and(eq(runs.id, run.id), eq(runs.page, run.page), eq(runs.status, "running")));
}

/**
 * The statement that records one slice of a page that reads its input in slices (an
 * import): adds the slice's counts and moves the cursor from `from` to `next.cursor`
 * (ending the run when `done`, moving to the next page when `endsPage`), only if the run
 * is still on this page at `from`. It returns the run's id when it did, so that of two
 * deliveries of one page racing through the same slices, the one that lost stops.
 */
export function advanceCursorStatement(db: Db, run: RunRow, counts: RunCounts, from: string | null, next: { cursor: string; done: boolean; endsPage: boolean }) {
  const now = Date.now();
  return db
    .update(runs)
    .set({ ...addCounts(counts), cursor: next.cursor, movedAt: now, ...(next.endsPage ? { page: run.page + 1 } : {}), ...(next.done ? { status: "done" as const, finishedAt: now } : {}) })
    .where(and(eq(runs.id, run.id), eq(runs.page, run.page), eq(runs.status, "running"), from === null ? isNull(runs.cursor) : eq(runs.cursor, from)))
    .returning({ id: runs.id });
}

/** Counts of people a page settled before a provider failure sent it back to the queue. */
export function addRunCountsStatement(db: Db, run: RunRow, counts: RunCounts) {
  return db
    .update(runs)
    .set({ ...addCounts(counts), movedAt: Date.now() })
    .where(and(eq(runs.id, run.id), eq(runs.page, run.page), eq(runs.status, "running")));
}

/** Holds a running run at its current page with the reason; approving it sends that page again. */
export async function holdRun(db: Db, run: RunRow, detail: string): Promise<boolean> {
  const held = await db
    .update(runs)
    .set({ status: "held", detail })
    .where(and(eq(runs.id, run.id), eq(runs.status, "running"), eq(runs.page, run.page)))
    .returning({ id: runs.id });
  return held.length > 0;
}

/** Ends a run as failed (or cancelled by an admin) with the reason, if it is still open. */
export async function failRun(db: Db, runId: string, detail: string, status: "failed" | "cancelled" = "failed"): Promise<void> {
  await failRunStatement(db, runId, detail, status);
}

/** The statement of failRun, for a batch. */
export function failRunStatement(db: Db, runId: string, detail: string, status: "failed" | "cancelled" = "failed") {
  return db
    .update(runs)
    .set({ status, detail, finishedAt: Date.now() })
    .where(and(eq(runs.id, runId), inArray(runs.status, ["running", "held"])));
}

/** Runs still `running` long after they started (their pages stopped): failed, so that new ones can start. */
export async function failStaleRuns(db: Db, startedBefore: number): Promise<number> {
  const res = await db
    .update(runs)
    .set({ status: "failed", detail: "Stopped without finishing.", finishedAt: Date.now() })
    .where(and(eq(runs.status, "running"), lt(runs.startedAt, startedBefore)));
  return res.meta.changes ?? 0;
}

const UserIds = v.array(v.string());

/** The people a run is limited to (its `user_ids` JSON column, checked), or null for everyone. */
export function runUserIds(run: Pick<RunRow, "userIds">): string[] | null {
  return run.userIds ? v.parse(UserIds, JSON.parse(run.userIds)) : null;
}

/** API.md's run. `counts` adds `linked` and `unmatched` (reconciliation) to the documented six. */
export function runView(run: RunRow) {
  return {
    id: run.id,
    integrationId: run.integrationId,
    kind: run.kind,
    status: run.status,
    trigger: run.trigger,
    userIds: runUserIds(run),
    /** True once an admin approved it past the mass-change guard. */
    approved: run.approved === 1,
    counts: countsOf(run),
    detail: run.detail,
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
  };
}

/** The integration's held removals run (see `runs.removals`), if any. */
export async function heldRemovalsRun(db: Db, integrationId: string): Promise<RunRow | null> {
  const [row] = await db
    .select()
    .from(runs)
    .where(and(eq(runs.integrationId, integrationId), eq(runs.removals, 1), eq(runs.status, "held")))
    .limit(1);
  return row ?? null;
}

/**
 * Holds the removals of these people behind the integration's held removals run: adds
 * them to it, or opens it. The ids are merged inside the statement, so concurrent jobs
 * never drop each other's. Answers null when it cannot be held now (an approved removals
 * run is still running: the caller retries after it).
 */
export async function holdRemovals(
  db: Db,
  integration: { id: string; tenantId: string },
  userIds: string[],
  detail: string,
): Promise<RunRow | null> {
  const ids = JSON.stringify([...new Set(userIds)].sort());
  for (let attempt = 0; attempt < 3; attempt++) {
    const [added] = await db
      .update(runs)
      .set({
        userIds: sql`(SELECT json_group_array(value) FROM (SELECT value FROM json_each(${runs.userIds}) UNION SELECT value FROM json_each(${ids}) ORDER BY value))`,
        detail,
      })
      .where(and(eq(runs.integrationId, integration.id), eq(runs.removals, 1), eq(runs.status, "held")))
      .returning();
    if (added) return added;
    const [opened] = await db
      .insert(runs)
      .values({ id: newId("run"), tenantId: integration.tenantId, integrationId: integration.id, kind: "resync", status: "held", trigger: "api", userIds: ids, removals: 1, detail, startedAt: Date.now() })
      .onConflictDoNothing()
      .returning();
    if (opened) return opened;
    // The slot is taken: by a held run opened meanwhile (add to it), or by a running one.
    const [running] = await db
      .select({ id: runs.id })
      .from(runs)
      .where(and(eq(runs.integrationId, integration.id), eq(runs.removals, 1), eq(runs.status, "running")))
      .limit(1);
    if (running) return null;
  }
  return null;
}

/** The statement that ends every open run of an integration (it lost its connection) with the reason. */
export function failOpenRunsStatement(db: Db, integrationId: string, detail: string) {
  return db
    .update(runs)
    .set({ status: "failed", detail, finishedAt: Date.now() })
    .where(and(eq(runs.integrationId, integrationId), inArray(runs.status, ["running", "held"])));
}

/** Opens a run; null when one of its kind is open already (the unique index is the check). */
export async function insertRun(
  db: Db,
  input: Pick<RunRow, "tenantId" | "integrationId" | "kind" | "status" | "trigger" | "userIds" | "detail"> & Partial<Pick<RunRow, "cursor">>,
): Promise<RunRow | null> {
  const [run] = await db
    .insert(runs)
    .values({ id: newId("run"), ...input, startedAt: Date.now(), movedAt: Date.now() })
    .onConflictDoNothing()
    .returning();
  return run ?? null;
}

/**
 * Marks a running run as moving until `until` (a page that waits out a provider's limit),
 * so that the cron does not take it for stalled meanwhile; with `page`, only while the
 * run is still on that page.
 */
export async function touchRun(db: Db, runId: string, until: number, page?: number): Promise<void> {
  await db
    .update(runs)
    .set({ movedAt: until })
    .where(and(eq(runs.id, runId), eq(runs.status, "running"), page === undefined ? undefined : eq(runs.page, page)));
}

/**
 * Claims the run's current page for one delivery of its message: only when the run is
 * running on that page and no other delivery holds it (its `moved_at` is not in the
 * future). The claim holds the page until `until`; the page's advance, or `touchRun`,
 * ends it. Answers whether this delivery claimed it.
 */
export async function claimRunPage(db: Db, run: Pick<RunRow, "id" | "page">, now: number, until: number): Promise<boolean> {
  const claimed = await db
    .update(runs)
    .set({ movedAt: until })
    .where(and(eq(runs.id, run.id), eq(runs.page, run.page), eq(runs.status, "running"), sql`coalesce(${runs.movedAt}, ${runs.startedAt}) <= ${now}`))
    .returning({ id: runs.id });
  return claimed.length === 1;
}

/** A held run goes on past the guard; null when it was not held. */
export async function approveHeldRun(db: Db, runId: string): Promise<RunRow | null> {
  const [updated] = await db
    .update(runs)
    .set({ status: "running", approved: 1, detail: null, movedAt: Date.now() })
    .where(and(eq(runs.id, runId), eq(runs.status, "held")))
    .returning();
  return updated ?? null;
}

/**
 * Running runs that have not moved since `before` (their page's message was lost with a
 * restart, or is still backing off), each marked as moved now, so that the cron sends
 * each one on once and not again until another while has passed.
 */
export async function claimStalledRuns(db: Db, before: number, now = Date.now()): Promise<RunRow[]> {
  return db
    .update(runs)
    .set({ movedAt: now })
    .where(and(eq(runs.status, "running"), sql`coalesce(${runs.movedAt}, ${runs.startedAt}) < ${before}`))
    .returning();
}
