import { and, inArray, lt, ne } from "drizzle-orm";
import type { Db } from "./client";
import { directoryTombstones, events, handlerLogs, ssoTokenUses, syncLogs, webhookEvents } from "./schema";

/** Rows deleted per statement, and statements per table and night, to stay inside one invocation's limits. */
const DELETE_CHUNK = 5000;
const MAX_CHUNKS = 40;

/**
 * Deletes what is past its retention: webhook records, remembered removals, sync and handler
 * logs and settled events
 * older than `before`, and used sign-in tokens past their expiry (`now`). Answers how
 * many rows each table lost.
 */
export async function purgeExpired(db: Db, before: number, now: number) {
  const webhooks = await db.delete(webhookEvents).where(lt(webhookEvents.receivedAt, before));
  // A sender retries within hours: a remembered removal past the retention has done its work.
  const tombstones = await db.delete(directoryTombstones).where(lt(directoryTombstones.createdAt, before));
  // Oldest first by id, a chunk at a time: a big table never needs one long statement.
  const purge = async (table: typeof syncLogs | typeof handlerLogs) => {
    let removed = 0;
    for (let i = 0; i < MAX_CHUNKS; i++) {
      const oldest = db.select({ id: table.id }).from(table).where(lt(table.at, before)).orderBy(table.id).limit(DELETE_CHUNK);
      const res = await db.delete(table).where(inArray(table.id, oldest));
      removed += res.meta.changes ?? 0;
      if ((res.meta.changes ?? 0) < DELETE_CHUNK) break;
    }
    return removed;
  };
  const logs = await purge(syncLogs);
  const handlerLogLines = await purge(handlerLogs);
  // Events are kept as long as their log lines; one still pending is never dropped.
  const oldEvents = await db.delete(events).where(and(lt(events.createdAt, before), ne(events.status, "pending")));
  // A used sign-in token past its expiry can no longer be replayed anyway.
  const tokens = await db.delete(ssoTokenUses).where(lt(ssoTokenUses.expiresAt, now));
  return {
    webhookEvents: webhooks.meta.changes ?? 0,
    tombstones: tombstones.meta.changes ?? 0,
    ssoTokenUses: tokens.meta.changes ?? 0,
    syncLogs: logs,
    handlerLogs: handlerLogLines,
    events: oldEvents.meta.changes ?? 0,
  };
}
