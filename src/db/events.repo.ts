import { and, desc, eq, lt, lte, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "./client";
import { events, handlerLogs, type EventRow, type HandlerLogRow } from "./schema";

/**
 * Events for `after` handlers and the handler logs. An event is inserted before it is
 * queued; each attempt is claimed by one statement, so of two messages for one attempt
 * (a redelivery, the sweep) only one sends.
 */

function chunks<T>(rows: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** Inserts events (an event already stored under its id is left as it is). 10 columns a row: 9 rows a statement. */
export function insertEventsStatements(db: Db, rows: EventRow[]): BatchItem<"sqlite">[] {
  return chunks(rows, 9).map((part) => db.insert(events).values(part).onConflictDoNothing());
}

/** Handler log lines. 14 columns a row: 7 rows a statement. */
export function handlerLogStatements(db: Db, rows: HandlerLogRow[]): BatchItem<"sqlite">[] {
  return chunks(rows, 7).map((part) => db.insert(handlerLogs).values(part));
}

export async function writeHandlerLogs(db: Db, rows: HandlerLogRow[]): Promise<void> {
  const [first, ...rest] = handlerLogStatements(db, rows);
  if (first) await db.batch([first, ...rest]);
}

/**
 * Claims attempt `attempt` of a pending event: counts it and holds the event until
 * `leaseUntil` (after which the sweep takes it for lost). Null when the event is not
 * pending, or this attempt was claimed already.
 */
export async function claimAttempt(db: Db, id: string, attempt: number, now: number, leaseUntil: number): Promise<EventRow | null> {
  const [row] = await db
    .update(events)
    .set({ attempts: sql`${events.attempts} + 1`, nextAttemptAt: leaseUntil, updatedAt: now })
    .where(and(eq(events.id, id), eq(events.status, "pending"), eq(events.attempts, attempt - 1)))
    .returning();
  return row ?? null;
}

/** What became of an attempt: delivered, failed or dropped for good, or pending until `nextAttemptAt`. */
export function settleEventStatement(db: Db, id: string, status: EventRow["status"], nextAttemptAt: number, now: number) {
  return db.update(events).set({ status, nextAttemptAt, updatedAt: now }).where(eq(events.id, id));
}

/** Pending events whose next attempt is overdue by `graceMs` (their message was lost, or their attempt died). */
export function overdueEvents(db: Db, now: number, graceMs: number, limit: number): Promise<EventRow[]> {
  return db
    .select()
    .from(events)
    .where(and(eq(events.status, "pending"), lte(events.nextAttemptAt, now - graceMs)))
    .orderBy(events.nextAttemptAt)
    .limit(limit);
}

export type HandlerLogLine = typeof handlerLogs.$inferSelect;

/** An integration's handler log lines, newest first, optionally of one kind or status; `beforeId` continues a listing. */
export function listHandlerLogs(
  db: Db,
  integration: { tenantId: string; id: string },
  filter: { kind?: HandlerLogLine["kind"]; status?: HandlerLogLine["status"] },
  beforeId: number | null,
  limit: number,
): Promise<HandlerLogLine[]> {
  return db
    .select()
    .from(handlerLogs)
    .where(
      and(
        eq(handlerLogs.tenantId, integration.tenantId),
        eq(handlerLogs.integrationId, integration.id),
        filter.kind ? eq(handlerLogs.kind, filter.kind) : undefined,
        filter.status ? eq(handlerLogs.status, filter.status) : undefined,
        beforeId !== null ? lt(handlerLogs.id, beforeId) : undefined,
      ),
    )
    .orderBy(desc(handlerLogs.id))
    .limit(limit);
}
