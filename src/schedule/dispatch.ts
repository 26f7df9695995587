import { and, eq, isNull, lte, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { parseIntegration, type Integration } from "../integrations/store";
import type { RunKind } from "../db/runs.repo";
import { integrations } from "../db/schema";
import type { Env } from "../env";
import { startRun } from "../runs/start";
import { canPush } from "../sync/push";

/** Integrations looked at per tick; the rest are due at the next one. */
const PER_TICK = 200;
const RECONCILE_EVERY_MS = { hourly: 3_600_000, daily: 86_400_000 } as const;

/**
 * The every-minute tick: starts the resyncs and reconciliations that are due. Each due
 * time is claimed with a compare-and-set, so two ticks that overlap start each run once;
 * a kind that still has a run open (running, or held for approval) is not started again.
 * The tick only writes rows and queues first pages: the provider work happens in the
 * queue consumer, a page at a time.
 */
export async function dispatchDue(db: Db, env: Env, now: number): Promise<{ resync: number; reconcile: number }> {
  const due = await db
    .select()
    .from(integrations)
    .where(
      and(
        eq(integrations.status, "active"),
        or(isNull(integrations.resyncDueAt), lte(integrations.resyncDueAt, now), isNull(integrations.reconcileDueAt), lte(integrations.reconcileDueAt, now)),
      ),
    )
    .limit(PER_TICK);
  const started = { resync: 0, reconcile: 0 };
  for (const row of due) {
    const integration = parseIntegration(row);
    const { resyncMinutes, reconcile } = integration.config.schedule;
    if ((row.resyncDueAt ?? 0) <= now && (await claim(db, row.id, "resyncDueAt", row.resyncDueAt, now + resyncMinutes * 60_000))) {
      if (await start(db, env, integration, "resync")) started.resync++;
    }
    if ((row.reconcileDueAt ?? 0) <= now) {
      const next = reconcile === "off" ? now + RECONCILE_EVERY_MS.daily : now + RECONCILE_EVERY_MS[reconcile];
      if ((await claim(db, row.id, "reconcileDueAt", row.reconcileDueAt, next)) && reconcile !== "off") {
        if (await start(db, env, integration, "reconcile")) started.reconcile++;
      }
    }
  }
  return started;
}

/** Moves a due time forward only if no other tick did first. */
async function claim(db: Db, id: string, column: "resyncDueAt" | "reconcileDueAt", seen: number | null, next: number): Promise<boolean> {
  const res = await db
    .update(integrations)
    .set({ [column]: next })
    .where(and(eq(integrations.id, id), seen === null ? isNull(integrations[column]) : eq(integrations[column], seen)));
  return (res.meta.changes ?? 0) === 1;
}

async function start(db: Db, env: Env, integration: Integration, kind: RunKind): Promise<boolean> {
  if (!canPush(integration)) return false;
  return (await startRun(db, env, integration, kind, "schedule")) !== null;
}
