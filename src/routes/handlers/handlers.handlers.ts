import { createFactory } from "hono/factory";
import { listHandlerLogs } from "../../db/events.repo";
import { testDelivery } from "../../events/deliver";
import type { TenantEnv } from "../../http/context";
import { loadIntegration as load } from "../../http/loaders";
import { decodeCursor, page } from "../../http/pagination";
import { validate } from "../../http/validate";
import { iso } from "../../lib/time";
import { contracts, HandlerLogsQuery, IntegrationParams, TestBody } from "./handlers.routes";

const factory = createFactory<TenantEnv>();

export const handlerLogsHandlers = factory.createHandlers(contracts.logs, validate("param", IntegrationParams), validate("query", HandlerLogsQuery), async (c) => {
  const integration = await load(c, c.req.valid("param").id);
  const { limit, cursor, kind, status } = c.req.valid("query");
  const before = decodeCursor(cursor);
  const beforeId = before !== null && /^\d+$/.test(before) ? Number(before) : null;
  const rows = await listHandlerLogs(c.get("db"), integration, { kind, status }, beforeId, limit + 1);
  const { data, nextCursor } = page(rows, limit, (r) => String(r.id));
  return c.json({ data: data.map(handlerLogView), nextCursor });
});

export function handlerLogView(r: Awaited<ReturnType<typeof listHandlerLogs>>[number]) {
  return {
    at: iso(r.at),
    kind: r.kind,
    event: r.event,
    userId: r.userId,
    status: r.status,
    httpStatus: r.httpStatus,
    durationMs: r.durationMs,
    attempt: r.attempt,
    nextAttemptAt: r.nextAttemptAt === null ? null : iso(r.nextAttemptAt),
    detail: r.detail,
  };
}

export const testHandlers = factory.createHandlers(contracts.test, validate("param", IntegrationParams), validate("json", TestBody), async (c) => {
  const integration = await load(c, c.req.valid("param").id);
  const result = await testDelivery(c.get("db"), c.env, integration, c.req.valid("json").event ?? "user.synced");
  return c.json(result, 200);
});
