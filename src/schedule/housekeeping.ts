import type { Db } from "../db/client";
import { purgeExpired } from "../db/retention.repo";
import { failStaleRuns } from "../db/runs.repo";
import { deleteExpiredStates } from "../db/oauth.repo";
import { dropStaleImportKeys } from "../db/imports.repo";
import { dropOldCalls } from "../db/calls.repo";

const DAY_MS = 24 * 60 * 60 * 1000;
/** A run still `running` after this long has stopped for good (its pages failed or were lost). */
const STALE_RUN_MS = DAY_MS;

/**
 * Deletes what is past its retention: sync logs, webhook records and remembered removals older than
 * `retentionDays` (RETENTION_DAYS, default 30), used sign-in tokens and expired OAuth states; and
 * fails runs that stopped without finishing, so that the schedule can start new ones; and drops
 * the keys of import plans that died more than a day ago (a plan drops its own), and the
 * provider calls counted for throttles more than two days ago. Answers how
 * many rows each step touched.
 */
export async function housekeeping(db: Db, now: number, retentionDays: number) {
  const purged = await purgeExpired(db, now - retentionDays * DAY_MS, now);
  return {
    ...purged,
    oauthStates: await deleteExpiredStates(db, now),
    staleRuns: await failStaleRuns(db, now - STALE_RUN_MS),
    importKeys: await dropStaleImportKeys(db, now - DAY_MS),
    providerCalls: await dropOldCalls(db, now),
  };
}
