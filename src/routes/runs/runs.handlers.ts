import type { Context } from "hono";
import { createFactory } from "hono/factory";
import type { Integration } from "../../integrations/store";
import { getRun, listRuns, runCursorKey, runView, type RunKind } from "../../db/runs.repo";
import { usersByIds } from "../../db/sync.repo";
import type { TenantEnv } from "../../http/context";
import { AppError } from "../../http/errors";
import { requireRecentAuth } from "../../http/middleware";
import { decodeCursor, page } from "../../http/pagination";
import { validate } from "../../http/validate";
import { approveRunAction, cancelRunAction, runOf, startRunAction } from "../../http/actions";
import { loadIntegration as load, triggerOf } from "../../http/loaders";

import { contracts, IntegrationParams, ResyncBody, RunParams, RunsQuery } from "./runs.routes";

const factory = createFactory<TenantEnv>();

async function begin(c: Context<TenantEnv>, integration: Integration, kind: RunKind, userIds: string[] | null) {
  const run = await startRunAction(c.get("db"), c.env, integration, kind, triggerOf(c), userIds);
  return c.json({ runId: run.id }, 202);
}

export const resyncHandlers = factory.createHandlers(contracts.resync, validate("param", IntegrationParams), validate("json", ResyncBody), async (c) => {
  const integration = await load(c, c.req.valid("param").id);
  const { userIds } = c.req.valid("json");
  if (userIds) {
    const known = new Set((await usersByIds(c.get("db"), integration.tenantId, userIds)).map((u) => u.id));
    const unknown = userIds.flatMap((id, i) => (known.has(id) ? [] : [{ path: `userIds.${i}`, message: `No directory user ${id}.` }]));
    if (unknown.length) throw AppError.validation(unknown);
  }
  return begin(c, integration, "resync", userIds ?? null);
});

export const reconcileHandlers = factory.createHandlers(contracts.reconcile, validate("param", IntegrationParams), async (c) =>
  begin(c, await load(c, c.req.valid("param").id), "reconcile", null),
);

const loadRun = (c: Context<TenantEnv>, id: string) => runOf(c.get("db"), c.get("tenant").id, id);

export const runsHandlers = factory.createHandlers(contracts.runs, validate("query", RunsQuery), async (c) => {
  const { limit, cursor, integrationId, kind, status } = c.req.valid("query");
  const rows = await listRuns(c.get("db"), c.get("tenant").id, { integrationId, kind, status }, decodeCursor(cursor), limit);
  const { data, nextCursor } = page(rows, limit, runCursorKey);
  return c.json({ data: data.map(runView), nextCursor });
});

export const runHandlers = factory.createHandlers(contracts.run, validate("param", RunParams), async (c) => c.json(runView(await loadRun(c, c.req.valid("param").id))));

export const approveHandlers = factory.createHandlers(contracts.approve, requireRecentAuth, validate("param", RunParams), async (c) => {
  const run = await loadRun(c, c.req.valid("param").id);
  await approveRunAction(c.get("db"), c.env, run);
  return c.json(runView((await getRun(c.get("db"), run.tenantId, run.id))!));
});

export const cancelHandlers = factory.createHandlers(contracts.cancel, validate("param", RunParams), async (c) => {
  const run = await loadRun(c, c.req.valid("param").id);
  await cancelRunAction(c.get("db"), run);
  return c.json(runView((await getRun(c.get("db"), run.tenantId, run.id))!));
});
