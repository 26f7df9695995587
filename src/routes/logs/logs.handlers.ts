import { and, desc, eq, lt } from "drizzle-orm";
import { createFactory } from "hono/factory";
import { syncLogs } from "../../db/schema";
import type { TenantEnv } from "../../http/context";
import { decodeCursor, page } from "../../http/pagination";
import { validate } from "../../http/validate";
import { iso } from "../../lib/time";
import { loadIntegration as load } from "../../http/loaders";

import { contracts, IntegrationParams, LogsQuery } from "./logs.routes";

const factory = createFactory<TenantEnv>();

export const logsHandlers = factory.createHandlers(contracts.logs, validate("param", IntegrationParams), validate("query", LogsQuery), async (c) => {
  const integration = await load(c, c.req.valid("param").id);
  const { limit, cursor, userId, status, action } = c.req.valid("query");
  const before = decodeCursor(cursor);
  const rows = await c
    .get("db")
    .select()
    .from(syncLogs)
    .where(
      and(
        eq(syncLogs.tenantId, integration.tenantId),
        eq(syncLogs.integrationId, integration.id),
        userId ? eq(syncLogs.userId, userId) : undefined,
        status ? eq(syncLogs.status, status) : undefined,
        action ? eq(syncLogs.action, action) : undefined,
        before !== null && /^\d+$/.test(before) ? lt(syncLogs.id, Number(before)) : undefined,
      ),
    )
    .orderBy(desc(syncLogs.id))
    .limit(limit + 1);
  const { data, nextCursor } = page(rows, limit, (r) => String(r.id));
  return c.json({ data: data.map((r) => ({ at: iso(r.at), userId: r.userId, action: r.action, status: r.status, remoteId: r.remoteId, detail: r.detail })), nextCursor });
});

