import { createFactory } from "hono/factory";
import { getUser } from "../../db/directory.repo";
import { getLink, linkByHand, linksWithEmail, otherHolder, unlinkByHand, unmatchedPeople, unmatchedRecords } from "../../db/links.repo";
import type { LinkRow } from "../../db/schema";
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

function linkView(row: LinkRow & { email: string }, provider: string) {
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

export const linksHandlers = factory.createHandlers(contracts.links, validate("param", IntegrationParams), validate("query", LinksQuery), async (c) => {
  const integration = await load(c, c.req.valid("param").id);
  const { limit, cursor, status } = c.req.valid("query");
  const after = decodeCursor(cursor);
  const rows = await linksWithEmail(c.get("db"), integration, { status, afterUserId: after }, limit + 1);
  const { data, nextCursor } = page(rows, limit, (r) => r.link.userId);
  return c.json({ data: data.map((r) => linkView({ ...r.link, email: r.email }, integration.provider)), nextCursor });
});

export const unmatchedHandlers = factory.createHandlers(contracts.unmatched, validate("param", IntegrationParams), validate("query", UnmatchedQuery), async (c) => {
  const integration = await load(c, c.req.valid("param").id);
  const { limit } = c.req.valid("query");
  const db = c.get("db");
  const [local, remote] = await Promise.all([unmatchedPeople(db, integration, limit), unmatchedRecords(db, integration, limit)]);
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
  const { facts, push } = assertRunnable(integration);
  if (!push.isRecordId(remoteId)) throw AppError.validation([{ path: "remoteId", message: `Expected a ${facts.name} record id.` }]);
  const db = c.get("db");
  const user = await getUser(db, integration.tenantId, userId);
  if (!user) throw AppError.notFound("user");
  const taken = await otherHolder(db, integration.id, remoteId, userId);
  if (taken) throw AppError.conflict(`Record ${remoteId} is already linked to ${taken}; unlink it first.`);

  const ctx = connectorContext(db, c.env, integration);
  // A provider that cannot be asked now answers 503 with Retry-After (the one error handler).
  if (!(await push.get(ctx, integration.config.object, remoteId))) {
    throw AppError.validation([{ path: "remoteId", message: `No ${integration.config.object} record ${remoteId} at ${facts.name}.` }]);
  }
  const url = await push.recordUrls(ctx, integration.config.object);
  if (!(await linkByHand(db, integration, userId, remoteId, url(remoteId)))) throw AppError.conflict(`Record ${remoteId} was just linked to someone else.`);
  // The directory wins: its values go to the record.
  const job: PushJob = { kind: "push", tenantId: integration.tenantId, integrationId: integration.id, userId, version: user.version, reason: "rest" };
  await c.env.JOBS.send(job, { contentType: "json" });
  const [row] = await linksWithEmail(db, integration, { userId }, 1);
  return c.json(linkView({ ...row!.link, email: row!.email }, integration.provider));
});

export const deleteLinkHandlers = factory.createHandlers(contracts.deleteLink, validate("param", LinkParams), async (c) => {
  const { id, userId } = c.req.valid("param");
  const integration = await load(c, id);
  const db = c.get("db");
  const user = await getUser(db, integration.tenantId, userId);
  const link = await getLink(db, integration.id, userId);
  if (!user || !link) throw AppError.notFound("link");
  await unlinkByHand(db, integration, user, link);
  return c.body(null, 204);
});

