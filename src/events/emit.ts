import { insertEventsStatements } from "../db/events.repo";
import type { Db } from "../db/client";
import type { EventRow } from "../db/schema";
import type { RunCounts } from "../db/vocabulary";
import type { HandlerEvent } from "../lib/config";
import { newId } from "../lib/ids";
import { iso } from "../lib/time";
import { errorText, logger } from "../lib/log";
import { batchesOf, sendEventAttempts, type JobQueues } from "../queue/send";

/**
 * Events for `after` handlers (API.md "Handlers"): made only for an integration whose
 * handler subscribes to the type and is not stopped, stored in D1 (in the same batch as
 * what they report, where there is one), then queued. The body is fixed when the event is
 * made: every attempt sends the same bytes under the same `webhook-id`.
 */

/** The `data` of each event type, exactly as API.md gives it. */
export interface EventData {
  "user.synced": { userId: string; email: string | null; action: string; remoteId: string | null; remoteUrl: string | null };
  "user.failed": { userId: string; email: string | null; error: string };
  "user.excluded": { userId: string; reason: string };
  "run.completed": { runId: string; kind: string; counts: RunCounts };
  "run.held": { runId: string; kind: string; counts: RunCounts };
  "integration.reconnect_required": { reason: string };
  "import.completed": { importId: string; runId: string; counts: RunCounts };
}

/** What of an integration decides whether it gets an event. */
export interface EventTarget {
  id: string;
  tenantId: string;
  config: { handlers: { after?: { url: string; events: readonly string[] } } };
  afterDisabledReason: string | null;
}

export function subscribes(integration: EventTarget, type: HandlerEvent): boolean {
  const after = integration.config.handlers.after;
  return after !== undefined && after.events.includes(type) && integration.afterDisabledReason === null;
}

/**
 * The event rows for an integration (none when it does not subscribe). `id` makes an event
 * that must exist once whatever happens twice (a run's completion) keep one id: stored once.
 */
export function eventRows<T extends HandlerEvent>(integration: EventTarget, type: T, data: EventData[T][], now: number, id?: (data: EventData[T]) => string): EventRow[] {
  if (!subscribes(integration, type)) return [];
  return data.map((d) => ({
    id: id ? id(d) : newId("evt"),
    tenantId: integration.tenantId,
    integrationId: integration.id,
    type,
    body: JSON.stringify({ type, timestamp: iso(now), tenantId: integration.tenantId, integrationId: integration.id, data: d }),
    status: "pending" as const,
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
    updatedAt: now,
  }));
}

/**
 * A run's `run.completed` or `run.held`, under an id of its own so that however often the
 * moment is reached (a redelivered page) one event is stored. `counts` are the run's totals.
 */
export function runEventRows(integration: EventTarget, type: "run.completed" | "run.held", run: { id: string; kind: string; page: number }, counts: RunCounts, now: number): EventRow[] {
  return eventRows(integration, type, [{ runId: run.id, kind: run.kind, counts }], now, () => runEventId(run, type));
}

export function runEventId(run: { id: string; page: number }, type: "run.completed" | "run.held"): string {
  return `evt_${run.id}_${type === "run.held" ? `held_${run.page}` : "completed"}`;
}

/** Queues the first attempt of stored events. A send that fails is left to the cron's sweep, which finds them due. */
export async function queueEvents(queues: JobQueues, rows: Pick<EventRow, "id" | "tenantId">[]): Promise<void> {
  for (const part of batchesOf(rows)) {
    try {
      await sendEventAttempts(queues, part.map((e) => ({ id: e.id, tenantId: e.tenantId, attempt: 1 })));
    } catch (err) {
      logger().warn("queueing events failed; the sweep sends them", { events: part.map((e) => e.id), error: errorText(err) });
    }
  }
}

/** Stores events, then queues them: for events that report nothing written in a batch of their own. */
export async function emitEvents(db: Db, queues: JobQueues, rows: EventRow[]): Promise<void> {
  const [first, ...rest] = insertEventsStatements(db, rows);
  if (!first) return;
  await db.batch([first, ...rest]);
  await queueEvents(queues, rows);
}
