import { and, asc, eq, gt, ne, type SQL } from "drizzle-orm";
import type { Context } from "hono";
import { createFactory } from "hono/factory";
import { provider } from "../../connectors";
import { getRecord, recordUrlMaker } from "../../connectors/zoho/records";
import { getUser } from "../../db/directory.repo";
import type { Integration } from "../../integrations/store";
import { directoryUsers, links, remoteUnmatched, syncLogs } from "../../db/schema";
import type { TenantEnv } from "../../http/context";
import { AppError } from "../../http/errors";
import { decodeCursor, page } from "../../http/pagination";
import { validate } from "../../http/validate";
import { iso } from "../../lib/time";
import type { PushJob } from "../../jobs/messages";
import { connectorContext } from "../../integrations/connector-context";
import { assertRunnable, loadIntegration as load } from "../../http/loaders";

import { contracts, IntegrationParams, LinkBody, LinkParams, LinksQuery, UnmatchedQuery } from "./links.routes";

const factory = createFactory<TenantEnv>();

function linkView(row: typeof links.$inferSelect & { email: string }, provider: string) {
  return {
    userId: row.userId,
    email: row.email,
    integrationId: row.integrationId,
    provider,
    status: row.status,
    remoteId: row.remoteId,
    remoteUrl: row.remoteUrl,
    lastSyncedAt: iso(row.lastSyncedAt),
    lastError: row.lastError,
    manual: row.manual,
  };
}

function linksWithEmail(c: Context<TenantEnv>, integration: Integration, where: SQL | undefined, limit: number) {
  return c
    .get("db")
    .select({ link: links, email: directoryUsers.email })
    .from(links)
    .innerJoin(directoryUsers, and(eq(directoryUsers.tenantId, links.tenantId), eq(directoryUsers.id, links.userId)))
    .where(and(eq(links.tenantId, integration.tenantId), eq(links.integrationId, integration.id), where))
    .orderBy(asc(links.userId))
    .limit(limit);
}

export const linksHandlers = factory.createHandlers(contracts.links, validate("param", IntegrationParams), validate("query", LinksQuery), async (c) => {
  const integration = await load(c, c.req.valid("param").id);
  const { limit, cursor, status } = c.req.valid("query");
  const after = decodeCursor(cursor);
  const rows = await linksWithEmail(c, integration, and(status ? eq(links.status, status) : undefined, after !== null ? gt(links.userId, after) : undefined), limit + 1);
  const { data, nextCursor } = page(rows, limit, (r) => r.link.userId);
  return c.json({ data: data.map((r) => linkView({ ...r.link, email: r.email }, integration.provider)), nextCursor });
});

export const unmatchedHandlers = factory.createHandlers(contracts.unmatched, validate("param", IntegrationParams), validate("query", UnmatchedQuery), async (c) => {
  const integration = await load(c, c.req.valid("param").id);
  const { limit } = c.req.valid("query");
  const db = c.get("db");
  const local = await db
    .select({ user: directoryUsers, lastError: links.lastError })
    .from(links)
    .innerJoin(directoryUsers, and(eq(directoryUsers.tenantId, links.tenantId), eq(directoryUsers.id, links.userId)))
    .where(and(eq(links.tenantId, integration.tenantId), eq(links.integrationId, integration.id), eq(links.status, "unmatched")))
    .orderBy(asc(links.userId))
    .limit(limit);
  const remote = await db
    .select()
    .from(remoteUnmatched)
    .where(and(eq(remoteUnmatched.tenantId, integration.tenantId), eq(remoteUnmatched.integrationId, integration.id)))
    .orderBy(asc(remoteUnmatched.remoteId))
    .limit(limit);
  return c.json({
    local: local.map(({ user, lastError }) => ({
      id: user.id,
      email: user.email,
      name: [user.firstName, user.lastName].filter(Boolean).join(" ") || null,
      status: user.status,
      reason: lastError,
    })),
    remote: remote.map((r) => ({ remoteId: r.remoteId, email: r.email, name: r.name, remoteUrl: r.remoteUrl })),
  });
});

export const putLinkHandlers = factory.createHandlers(contracts.putLink, validate("param", LinkParams), validate("json", LinkBody), async (c) => {
  const { id, userId } = c.req.valid("param");
  const { remoteId } = c.req.valid("json");
  const integration = await load(c, id);
  assertRunnable(integration);
  const db = c.get("db");
  const user = await getUser(db, integration.tenantId, userId);
  if (!user) throw AppError.notFound("user");
  const [taken] = await db
    .select({ userId: links.userId })
    .from(links)
    .where(and(eq(links.integrationId, integration.id), eq(links.remoteId, remoteId), ne(links.userId, userId)));
  if (taken) throw AppError.conflict(`Record ${remoteId} is already linked to ${taken.userId}; unlink it first.`);

  const ctx = connectorContext(db, c.env, integration);
  // A provider that cannot be asked now answers 503 with Retry-After (the one error handler).
  if (!(await getRecord(ctx, integration.config.object, remoteId))) {
    throw AppError.validation([{ path: "remoteId", message: `No ${integration.config.object} record ${remoteId} at ${provider(integration.provider).name}.` }]);
  }
  const url = await recordUrlMaker(ctx, integration.config.object);
  const now = Date.now();
  const fields = { remoteId, remoteUrl: url(remoteId), status: "pending" as const, payloadHash: null, pushedVersion: null, lastError: null, failureKind: null, manual: "linked" as const, updatedAt: now };
  try {
    await db.batch([
      db
        .insert(links)
        .values({ tenantId: integration.tenantId, integrationId: integration.id, userId, ...fields })
        .onConflictDoUpdate({ target: [links.integrationId, links.userId], set: fields }),
      db.insert(syncLogs).values({ tenantId: integration.tenantId, integrationId: integration.id, userId, action: "link", status: "ok", remoteId, detail: "linked by hand", at: now }),
      db.delete(remoteUnmatched).where(and(eq(remoteUnmatched.integrationId, integration.id), eq(remoteUnmatched.remoteId, remoteId))),
    ]);
  } catch (err) {
    if (/UNIQUE constraint failed/i.test(String(err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : err))) {
      throw AppError.conflict(`Record ${remoteId} was just linked to someone else.`);
    }
    throw err;
  }
  // The directory wins: its values go to the record.
  const job: PushJob = { kind: "push", tenantId: integration.tenantId, integrationId: integration.id, userId, version: user.version, reason: "rest" };
  await c.env.JOBS.send(job, { contentType: "json" });
  const [row] = await linksWithEmail(c, integration, eq(links.userId, userId), 1);
  return c.json(linkView({ ...row!.link, email: row!.email }, integration.provider));
});

export const deleteLinkHandlers = factory.createHandlers(contracts.deleteLink, validate("param", LinkParams), async (c) => {
  const { id, userId } = c.req.valid("param");
  const integration = await load(c, id);
  const db = c.get("db");
  const user = await getUser(db, integration.tenantId, userId);
  const [link] = await db.select().from(links).where(and(eq(links.integrationId, integration.id), eq(links.userId, userId)));
  if (!user || !link) throw AppError.notFound("link");
  const now = Date.now();
  await db.batch([
    db
      .update(links)
      .set({ remoteId: null, remoteUrl: null, payloadHash: null, status: "unmatched", manual: "unlinked", lastError: "Unlinked by hand.", failureKind: null, pushedVersion: user.version, updatedAt: now })
      .where(and(eq(links.integrationId, integration.id), eq(links.userId, userId))),
    db.insert(syncLogs).values({ tenantId: integration.tenantId, integrationId: integration.id, userId, action: "link", status: "ok", remoteId: link.remoteId, detail: "unlinked by hand; the remote record stays", at: now }),
    ...(link.remoteId
      ? [
          db
            .insert(remoteUnmatched)
            .values({ tenantId: integration.tenantId, integrationId: integration.id, remoteId: link.remoteId, email: user.email, name: null, remoteUrl: link.remoteUrl, runId: "unlinked" })
            .onConflictDoNothing(),
        ]
      : []),
  ]);
  return c.body(null, 204);
});

