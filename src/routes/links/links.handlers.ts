import { createFactory } from "hono/factory";
import { linksWithEmail, unmatchedPeople, unmatchedRecords } from "../../db/links.repo";
import type { LinkRow } from "../../db/schema";
import { linkAction, unlinkAction } from "../../http/actions";
import type { TenantEnv } from "../../http/context";
import { loadIntegration as load } from "../../http/loaders";
import { decodeCursor, page } from "../../http/pagination";
import { validate } from "../../http/validate";
import { csvLine } from "../../lib/csv-out";
import { iso } from "../../lib/time";
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
  const integration = await load(c, id);
  await linkAction(c.get("db"), c.env, integration, userId, c.req.valid("json").remoteId);
  const [row] = await linksWithEmail(c.get("db"), integration, { userId }, 1);
  return c.json(linkView({ ...row!.link, email: row!.email }, integration.provider));
});

export const deleteLinkHandlers = factory.createHandlers(contracts.deleteLink, validate("param", LinkParams), async (c) => {
  const { id, userId } = c.req.valid("param");
  await unlinkAction(c.get("db"), await load(c, id), userId);
  return c.body(null, 204);
});

/** API.md's columns; `manual` (a link set by hand) comes last, beyond them. */
const CSV_COLUMNS = ["userId", "email", "firstName", "lastName", "status", "remoteId", "remoteUrl", "lastSyncedAt", "lastError", "manual"] as const;

function csvValue(row: Awaited<ReturnType<typeof linksWithEmail>>[number], column: (typeof CSV_COLUMNS)[number]) {
  switch (column) {
    case "email":
    case "firstName":
    case "lastName":
      return row[column];
    case "lastSyncedAt":
      return iso(row.link.lastSyncedAt);
    default:
      return row.link[column];
  }
}

export const linksCsvHandlers = factory.createHandlers(contracts.linksCsv, validate("param", IntegrationParams), async (c) => {
  const integration = await load(c, c.req.valid("param").id);
  const db = c.get("db");
  const encoder = new TextEncoder();
  let after: string | null = null;
  let started = false;
  // Streamed a page of links at a time: an integration of any size, in little memory.
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(csvLine([...CSV_COLUMNS])));
        return;
      }
      const rows = await linksWithEmail(db, integration, { afterUserId: after }, 500);
      if (!rows.length) return controller.close();
      const text = rows.map((row) => csvLine(CSV_COLUMNS.map((k) => csvValue(row, k)))).join("");
      controller.enqueue(encoder.encode(text));
      after = rows[rows.length - 1]!.link.userId;
      if (rows.length < 500) controller.close();
    },
  });
  return c.body(body, 200, { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="links-${integration.id}.csv"` });
});
