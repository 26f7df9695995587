import type { Db } from "../db/client";
import { markSwept, sweepRotation } from "../db/integrations.repo";
import { clearNeedsPush, peopleBehind } from "../db/sync.repo";
import { fromRecord } from "../integrations/store";
import type { Env } from "../env";
import { canPush } from "../sync/target";
import { sendPushes } from "../queue/send";

/** A change younger than this may still have its job in flight. */
export const SWEEP_GRACE_MS = 2 * 60_000;
/** How far back a tick looks; anything older is the scheduled resync's. */
const SWEEP_WINDOW_MS = 24 * 60 * 60_000;
/** People re-sent per integration and tick. */
const SWEEP_LIMIT = 500;
const INTEGRATIONS_PER_TICK = 200;

/**
 * Every tick: re-sends the jobs that a restart, a lost message or a failed enqueue left
 * behind, so that local runs (whose queue lives in memory) and production alike catch up
 * within minutes rather than at the next resync. Behind means, for an active integration
 * and a person changed in the last day but not in the last two minutes: marked
 * `needs_push`, or active with no link, or a link (not failed) whose pushed version is
 * older than the directory's and that has not moved since, or a link failed for a passing
 * reason (its job used up its retries on 429s or 5xx) that has rested as long.
 * A tick takes the 200 integrations swept least recently, so every one is reached in
 * turn; an integration with more people behind than a tick re-sends stays first. A
 * person's mark is cleared once every integration of their tenant re-sent them.
 * Answers how many jobs were sent.
 */
export async function sweepBehind(db: Db, env: Env, now: number): Promise<number> {
  let sent = 0;
  const window = { from: now - SWEEP_WINDOW_MS, to: now - SWEEP_GRACE_MS };
  const swept = new Set<string>();
  for (const record of await sweepRotation(db, INTEGRATIONS_PER_TICK)) {
    const integration = fromRecord(record);
    if (!canPush(integration)) {
      await markSwept(db, integration.id, window.to);
      continue;
    }
    const behind = await peopleBehind(db, integration, window, SWEEP_LIMIT);
    await sendPushes(env, integration, behind, "sweep");
    sent += behind.length;
    // Everyone behind up to the window's end was re-sent, unless the limit cut the list.
    if (behind.length < SWEEP_LIMIT) await markSwept(db, integration.id, window.to);
    swept.add(integration.tenantId);
  }
  // Their jobs are on the queue again: the mark has done its work (unless a newer change came).
  for (const tenantId of swept) await clearNeedsPush(db, tenantId, window);
  return sent;
}
