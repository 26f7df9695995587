import { createFactory } from "hono/factory";
import { listLogs } from "../../db/logs.repo";
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
  const beforeId = before !== null && /^\d+$/.test(before) ? Number(before) : null;
  const rows = await listLogs(c.get("db"), integration, { userId, status, action }, beforeId, limit + 1);
  const { data, nextCursor } = page(rows, limit, (r) => String(r.id));
  return c.json({ data: data.map((r) => ({ at: iso(r.at), userId: r.userId, action: r.action, status: r.status, remoteId: r.remoteId, detail: r.detail })), nextCursor });
});

