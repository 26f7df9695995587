import { clock } from "../lib/clock";
import { and, count, eq, gt, gte, lt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { providerCalls } from "./schema";

/**
 * The window the throttle counts: a second longer than the provider's minute, so that a
 * call that travels faster than the one before it cannot put two minutes' worth inside
 * the provider's own count.
 */
export const THROTTLE_WINDOW_MS = 61_000;

/** Calls are kept this long: the budget counts the current UTC day. */
const KEEP_MS = 2 * 86_400_000;

/** The start of the UTC day of `now`. */
export function dayStart(now: number): number {
  return now - (now % 86_400_000);
}

/**
 * Records one call if fewer than `perMinute` were made in the window; answers 0, or how
 * long to wait before the next call may go. The check and the insert are one statement,
 * so two pages racing cannot both take the last call.
 */
export async function takeCall(db: Db, integrationId: string, perMinute: number, now = clock.now()): Promise<number> {
  const from = now - THROTTLE_WINDOW_MS;
  const taken = await db.run(
    sql`insert into ${providerCalls} (integration_id, at) select ${integrationId}, ${now} where (select count(*) from ${providerCalls} where integration_id = ${integrationId} and at > ${from}) < ${perMinute}`,
  );
  if ((taken.meta.changes ?? 0) === 1) return 0;
  const [oldest] = await db
    .select({ at: providerCalls.at })
    .from(providerCalls)
    .where(and(eq(providerCalls.integrationId, integrationId), gt(providerCalls.at, from)))
    .orderBy(providerCalls.at)
    .limit(1);
  return Math.max(1_000, (oldest?.at ?? now) + THROTTLE_WINDOW_MS - now);
}

/** Calls made since the start of the UTC day (the daily budget's count). */
export async function callsToday(db: Db, integrationId: string, now = clock.now()): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(providerCalls)
    .where(and(eq(providerCalls.integrationId, integrationId), gte(providerCalls.at, dayStart(now))));
  return row?.n ?? 0;
}

/** Housekeeping: forgets calls older than two days. */
export async function dropOldCalls(db: Db, now: number): Promise<number> {
  const res = await db.delete(providerCalls).where(lt(providerCalls.at, now - KEEP_MS));
  return res.meta.changes ?? 0;
}
