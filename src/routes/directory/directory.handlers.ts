import { createFactory } from "hono/factory";
import { getUser, linksOfUser, listUsers } from "../../db/directory.repo";
import { applyChange, pushQueues, type Change } from "../../directory/ingest";
import { userView } from "../../directory/user";
import type { TenantEnv } from "../../http/context";
import { AppError } from "../../http/errors";
import { checkIngestLimit } from "../../http/middleware";
import { decodeCursor, page } from "../../http/pagination";
import { validate } from "../../http/validate";
import { iso } from "../../lib/time";
import {
  deleteUserContract,
  getUserContract,
  ListUsersQuery,
  listUsersContract,
  putUserContract,
  PutUserBody,
  UserParams,
} from "./directory.routes";

const factory = createFactory<TenantEnv>();

export const putUserHandlers = factory.createHandlers(
  putUserContract,
  validate("param", UserParams, { invalid: "validation" }),
  validate("json", PutUserBody),
  async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    if (body.id !== undefined && body.id !== id) {
      throw AppError.validation([{ path: "id", message: "Must equal the id in the path." }]);
    }
    const tenantId = c.get("tenant").id;
    await checkIngestLimit(c.env.INGEST_LIMITER, tenantId);
    const change: Change = { kind: "upsert", user: { ...body, id }, at: body.updatedAt ? Date.parse(body.updatedAt) : null, reason: "rest" };
    const result = await applyChange(c.get("db"), pushQueues(c.env), tenantId, change, { waitUntil: (p) => c.executionCtx.waitUntil(p) });
    if (result.outcome !== "applied") {
      // A full user always inserts or updates unless the stored version is newer.
      throw AppError.conflict("updatedAt is older than the version the directory holds; nothing was changed.");
    }
    return c.json(userView(result.user), result.created ? 201 : 200);
  },
);

export const getUserHandlers = factory.createHandlers(getUserContract, validate("param", UserParams), async (c) => {
  const tenantId = c.get("tenant").id;
  const { id } = c.req.valid("param");
  const db = c.get("db");
  const user = await getUser(db, tenantId, id);
  if (!user) throw AppError.notFound("user");
  const links = await linksOfUser(db, tenantId, id);
  return c.json(
    { ...userView(user), links: links.map(({ userId: _, ...l }) => ({ ...l, lastSyncedAt: iso(l.lastSyncedAt) })) },
    200,
  );
});

export const listUsersHandlers = factory.createHandlers(listUsersContract, validate("query", ListUsersQuery), async (c) => {
  const query = c.req.valid("query");
  const rows = await listUsers(c.get("db"), c.get("tenant").id, {
    q: query.q || undefined,
    status: query.status,
    after: decodeCursor(query.cursor),
    limit: query.limit,
  });
  const { data, nextCursor } = page(rows, query.limit, (r) => r.id);
  return c.json({ data: data.map(userView), nextCursor }, 200);
});

export const deleteUserHandlers = factory.createHandlers(deleteUserContract, validate("param", UserParams), async (c) => {
  const { id } = c.req.valid("param");
  const tenantId = c.get("tenant").id;
  const db = c.get("db");
  await checkIngestLimit(c.env.INGEST_LIMITER, tenantId);
  const existing = await getUser(db, tenantId, id);
  if (!existing) throw AppError.notFound("user");
  // Deleting is never older than what is stored: a source clock ahead of ours still deletes.
  const at = Math.max(Date.now(), existing.sourceUpdatedAt);
  await applyChange(db, pushQueues(c.env), tenantId, { kind: "delete", user: { id }, at, reason: "rest" }, { waitUntil: (p) => c.executionCtx.waitUntil(p) });
  return c.body(null, 204);
});
