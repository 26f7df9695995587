import type { Db } from "../db/client";
import type { Integration } from "../integrations/store";
import { addRunCountsStatement, advanceRunStatement, runUserIds } from "../db/runs.repo";
import type { RunRow } from "../db/schema";
import { duePeople } from "../db/sync.repo";
import type { Env } from "../env";
import { pushGroup, type GroupOutcome } from "../sync/push";
import { targetOf } from "../sync/target";
import { runCompletedStatements } from "./start";

/**
 * People a resync page pushes: one lookup's worth (Zoho CRM: 2,000, one COQL call and
 * twenty writes of 100), and at least 500, so that a provider that looks people up one at
 * a time still moves in pages of useful size.
 */
export function resyncPageSize(integration: Integration): number {
  const lookup = targetOf(integration)?.facts.limits.lookupBatch ?? 0;
  return Math.min(2000, Math.max(500, lookup));
}

/**
 * One page of a resync: the people due (or the next of the chosen ones, pushed even if
 * unchanged), pushed as the queue consumer would; the run's counts and next page are
 * written in the same batch as the links.
 */
export async function resyncPage(db: Db, env: Env, integration: Integration, run: RunRow): Promise<GroupOutcome & { more: boolean }> {
  const after = run.cursor ?? "";
  const page = resyncPageSize(integration);
  let ids: string[];
  let more: boolean;
  const chosenIds = runUserIds(run);
  if (chosenIds) {
    // pushGroup reads only the tenant's own people, so an id that went since is passed over.
    const chosen = chosenIds.filter((id) => id > after);
    ids = chosen.slice(0, page);
    more = chosen.length > page;
  } else {
    ids = await duePeople(db, integration, after, page);
    more = ids.length === page;
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
