import { inArray, lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { failStaleRuns } from "../db/runs.repo";
import { directoryTombstones, ssoTokenUses, syncLogs, webhookEvents } from "../db/schema";
import { deleteExpiredStates } from "../integrations/oauth-state";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Rows deleted per statement, and statements per table and night, to stay inside one invocation's limits. */
const DELETE_CHUNK = 5000;
const MAX_CHUNKS = 40;
/** A run still `running` after this long has stopped for good (its pages failed or were lost). */
const STALE_RUN_MS = DAY_MS;

/**
 * Deletes what is past its retention: sync logs, webhook records and remembered removals older than
 * `retentionDays` (RETENTION_DAYS, default 30), expired OAuth states; and fails runs that
 * stopped without finishing, so that the schedule can start new ones. Answers how many
 * rows each step touched.
 */
export async function housekeeping(db: Db, now: number, retentionDays: number) {
  const before = now - retentionDays * DAY_MS;
  const webhooks = await db.delete(webhookEvents).where(lt(webhookEvents.receivedAt, before));
  // A sender retries within hours: a remembered removal past the retention has done its work.
  const tombstones = await db.delete(directoryTombstones).where(lt(directoryTombstones.createdAt, before));
  let logs = 0;
  // Oldest first by id, a chunk at a time: a big table never needs one long statement.
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const oldest = db.select({ id: syncLogs.id }).from(syncLogs).where(lt(syncLogs.at, before)).orderBy(syncLogs.id).limit(DELETE_CHUNK);
    const res = await db.delete(syncLogs).where(inArray(syncLogs.id, oldest));
    logs += res.meta.changes ?? 0;
    if ((res.meta.changes ?? 0) < DELETE_CHUNK) break;
  }
  return {
    webhookEvents: webhooks.meta.changes ?? 0,
    tombstones: tombstones.meta.changes ?? 0,
    // A used sign-in token past its expiry can no longer be replayed anyway.
    ssoTokenUses: (await db.delete(ssoTokenUses).where(lt(ssoTokenUses.expiresAt, now))).meta.changes ?? 0,
    syncLogs: logs,
    oauthStates: await deleteExpiredStates(db, now),
    staleRuns: await failStaleRuns(db, now - STALE_RUN_MS),
  };
}
