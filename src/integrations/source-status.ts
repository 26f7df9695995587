import { callsToday } from "../db/calls.repo";
import type { Db } from "../db/client";
import { latestRun, runView } from "../db/runs.repo";
import { iso } from "../lib/time";
import { connector } from "../connectors";
import { callLimits } from "./connector-context";
import type { Integration } from "./store";

/**
 * A source's pulls as an admin follows them: the last pull, when the next incremental
 * and full pulls are due, and the calls spent today against the limits.
 */
export async function pullStatus(db: Db, integration: Integration) {
  if (!connector(integration.provider).pull) return null;
  const [last, calls] = await Promise.all([latestRun(db, integration.id, "pull"), callsToday(db, integration.id)]);
  const { requestsPerMinute, callsPerDay } = callLimits(integration);
  const { fullPull = "daily" } = integration.config.schedule;
  return {
    lastRun: last ? runView(last) : null,
    nextPullAt: iso(integration.pullDueAt),
    nextFullPullAt: fullPull === "off" ? null : iso(integration.fullPullDueAt),
    callsToday: calls,
    callsPerDay,
    requestsPerMinute,
  };
}
