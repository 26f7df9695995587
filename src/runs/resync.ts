import { and, asc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import type { Integration } from "../integrations/store";
import { addRunCountsStatement, advanceRunStatement } from "../db/runs.repo";
import { directoryUsers, links, type RunRow } from "../db/schema";
import type { Env } from "../env";
import { pushGroup, type GroupOutcome } from "../sync/push";

/** People a resync page pushes: one COQL lookup and five bulk writes of 100 for a full page. */
export const RESYNC_PAGE = 500;

/**
 * The next people after `after` that a resync pushes: no link yet (active people), a
 * link `pending` or `failed` for a passing reason, or a directory version newer than the
 * last one pushed (a webhook whose job never ran, a disable not yet applied).
 */
async function duePeople(db: Db, integration: Integration, after: string): Promise<string[]> {
  const rows = await db
    .select({ id: directoryUsers.id })
    .from(directoryUsers)
    .leftJoin(links, and(eq(links.integrationId, integration.id), eq(links.userId, directoryUsers.id)))
    .where(
      and(
        eq(directoryUsers.tenantId, integration.tenantId),
        gt(directoryUsers.id, after),
        or(
          and(isNull(links.userId), eq(directoryUsers.status, "active")),
          eq(links.status, "pending"),
          and(eq(links.status, "failed"), eq(links.failureKind, "retry")),
          lt(sql`coalesce(${links.pushedVersion}, 0)`, directoryUsers.version),
        ),
      ),
    )
    .orderBy(asc(directoryUsers.id))
    .limit(RESYNC_PAGE);
  return rows.map((r) => r.id);
}

/**
 * One page of a resync: the people due (or the next of the chosen ones, pushed even if
 * unchanged), pushed as the queue consumer would; the run's counts and next page are
 * written in the same batch as the links.
 */
export async function resyncPage(db: Db, env: Env, integration: Integration, run: RunRow): Promise<GroupOutcome & { more: boolean }> {
  const after = run.cursor ?? "";
  let ids: string[];
  let more: boolean;
  if (run.userIds) {
    // pushGroup reads only the tenant's own people, so an id that went since is passed over.
    const chosen = (JSON.parse(run.userIds) as string[]).filter((id) => id > after);
    ids = chosen.slice(0, RESYNC_PAGE);
    more = chosen.length > RESYNC_PAGE;
  } else {
    ids = await duePeople(db, integration, after);
    more = ids.length === RESYNC_PAGE;
  }
  const cursor = ids[ids.length - 1] ?? run.cursor;
  const outcome = await pushGroup(db, env, integration, ids, {
    force: run.userIds !== null,
    removals: run.approved ? "approved" : "held",
    alongside: (counts, finished) => [finished ? advanceRunStatement(db, run, counts, { cursor, done: !more }) : addRunCountsStatement(db, run, counts)],
  });
  return { ...outcome, more };
}
