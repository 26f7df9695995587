import type { Db } from "../db/client";
import type { Integration } from "../integrations/store";
import { addRunCountsStatement, advanceRunStatement, runUserIds } from "../db/runs.repo";
import type { RunRow } from "../db/schema";
import { duePeople } from "../db/sync.repo";
import type { Env } from "../env";
import { pushGroup, type GroupOutcome } from "../sync/push";
import { runCompletedStatements } from "./start";

/** People a resync page pushes: one COQL lookup and five bulk writes of 100 for a full page. */
export const RESYNC_PAGE = 500;

/**
 * One page of a resync: the people due (or the next of the chosen ones, pushed even if
 * unchanged), pushed as the queue consumer would; the run's counts and next page are
 * written in the same batch as the links.
 */
export async function resyncPage(db: Db, env: Env, integration: Integration, run: RunRow): Promise<GroupOutcome & { more: boolean }> {
  const after = run.cursor ?? "";
  let ids: string[];
  let more: boolean;
  const chosenIds = runUserIds(run);
  if (chosenIds) {
    // pushGroup reads only the tenant's own people, so an id that went since is passed over.
    const chosen = chosenIds.filter((id) => id > after);
    ids = chosen.slice(0, RESYNC_PAGE);
    more = chosen.length > RESYNC_PAGE;
  } else {
    ids = await duePeople(db, integration, after, RESYNC_PAGE);
    more = ids.length === RESYNC_PAGE;
  }
  const cursor = ids[ids.length - 1] ?? run.cursor;
  const outcome = await pushGroup(db, env, integration, ids, {
    force: run.userIds !== null,
    removals: run.approved ? "approved" : "held",
    alongside: (counts, finished) =>
      finished ? [advanceRunStatement(db, run, counts, { cursor, done: !more }), ...(more ? [] : runCompletedStatements(db, integration, run, counts))] : [addRunCountsStatement(db, run, counts)],
  });
  return { ...outcome, more };
}
