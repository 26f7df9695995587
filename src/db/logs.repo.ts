import { and, desc, eq, lt } from "drizzle-orm";
import type { Db } from "./client";
import { syncLogs } from "./schema";

export type LogRow = typeof syncLogs.$inferSelect;

/**
 * An integration's log lines, newest first, optionally of one person, status or action;
 * `beforeId` continues a listing (the id of the last line of the page before).
 */
export function listLogs(
  db: Db,
  integration: { tenantId: string; id: string },
  filter: { userId?: string; status?: LogRow["status"]; action?: LogRow["action"] },
  beforeId: number | null,
  limit: number,
): Promise<LogRow[]> {
  return db
    .select()
    .from(syncLogs)
    .where(
      and(
        eq(syncLogs.tenantId, integration.tenantId),
        eq(syncLogs.integrationId, integration.id),
        filter.userId ? eq(syncLogs.userId, filter.userId) : undefined,
        filter.status ? eq(syncLogs.status, filter.status) : undefined,
        filter.action ? eq(syncLogs.action, filter.action) : undefined,
        beforeId !== null ? lt(syncLogs.id, beforeId) : undefined,
      ),
    )
    .orderBy(desc(syncLogs.id))
    .limit(limit);
}
