import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import { jsonResponse, problems, TENANT_SECURITY } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";
import { RUN_KINDS, RUN_STATUSES, RUN_TRIGGERS } from "../../db/vocabulary";

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(64));
import { UserIdParam as UserId } from "../../http/loaders";

export { IntegrationParams } from "../../http/loaders";
export const RunParams = v.object({ id: Id });

export const ResyncBody = v.strictObject({ userIds: v.optional(v.pipe(v.array(UserId), v.minLength(1), v.maxLength(1000))) });
export const RunsQuery = v.object({
  ...PageQuery,
  integrationId: v.optional(Id),
  kind: v.optional(v.picklist(RUN_KINDS)),
  status: v.optional(v.picklist(RUN_STATUSES)),
});

const Nullable = v.nullable(v.string());
const Counts = v.object({
  created: v.number(),
  updated: v.number(),
  unchanged: v.number(),
  disabled: v.number(),
  excluded: v.number(),
  failed: v.number(),
  linked: v.number(),
  unmatched: v.number(),
});
export const RunOut = v.object({
  id: v.string(),
  integrationId: v.nullable(v.string()),
  kind: v.picklist(RUN_KINDS),
  status: v.picklist(RUN_STATUSES),
  trigger: v.picklist(RUN_TRIGGERS),
  userIds: v.nullable(v.array(v.string())),
  approved: v.boolean(),
  counts: Counts,
  detail: Nullable,
  startedAt: v.string(),
  finishedAt: Nullable,
});
const Accepted = v.object({ runId: v.string() });
const RunPage = v.object({ data: v.array(RunOut), nextCursor: Nullable });

const tags = ["Runs and links"];
const security = TENANT_SECURITY;

export const contracts = {
  resync: describeRoute({
    tags,
    security,
    summary: "Resync: push everyone pending, failed for a passing reason or changed since the last push; or the chosen `userIds`, even if unchanged",
    responses: { 202: jsonResponse("The run started (or is held by the mass-change guard)", Accepted), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
  }),
  reconcile: describeRoute({
    tags,
    security,
    summary: "Reconcile: list the remote records and repair drift, deletions and missing links",
    responses: { 202: jsonResponse("The run started (or is held by the mass-change guard)", Accepted), ...problems(401, 403, 404, 409) },
  }),
  runs: describeRoute({ tags, security, summary: "Runs, newest first, optionally of one integration, kind or status", responses: { 200: jsonResponse("A page of runs", RunPage), ...problems(400, 401, 403, 422) } }),
  run: describeRoute({ tags, security, summary: "A run with its counts and status", responses: { 200: jsonResponse("The run", RunOut), ...problems(401, 403, 404) } }),
  approve: describeRoute({
    tags,
    security,
    summary: "Approve a held run (sensitive): it goes on past the mass-change guard",
    responses: { 200: jsonResponse("The run", RunOut), ...problems(401, 403, 404, 409) },
  }),
  cancel: describeRoute({ tags, security, summary: "Cancel a held or running run: it ends as `cancelled`", responses: { 200: jsonResponse("The run", RunOut), ...problems(401, 403, 404, 409) } }),
};
