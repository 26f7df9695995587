import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import { jsonResponse, problems, TENANT_SECURITY } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";
import { LOG_ACTIONS, RUN_KINDS, RUN_STATUSES, RUN_TRIGGERS } from "../../db/schema";

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(64));
const UserId = v.pipe(v.string(), v.minLength(1), v.maxLength(200));

export { IntegrationParams } from "../../http/loaders";
export const LinkParams = v.object({ id: Id, userId: UserId });
export const RunParams = v.object({ id: Id });

export const ResyncBody = v.strictObject({ userIds: v.optional(v.pipe(v.array(UserId), v.minLength(1), v.maxLength(1000))) });
export const LinkBody = v.strictObject({ remoteId: v.pipe(v.string(), v.regex(/^\d{1,30}$/, "Expected a Zoho record id.")) });

export const LINK_STATUSES = ["synced", "pending", "failed", "excluded", "unmatched"] as const;
export const LinksQuery = v.object({ ...PageQuery, status: v.optional(v.picklist(LINK_STATUSES)) });
export const UnmatchedQuery = v.object({ limit: PageQuery.limit });
export const LogsQuery = v.object({
  ...PageQuery,
  userId: v.optional(UserId),
  status: v.optional(v.picklist(["ok", "failed", "skipped"])),
  action: v.optional(v.picklist(LOG_ACTIONS)),
});
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
  integrationId: v.string(),
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
export const LinkOut = v.object({
  userId: v.string(),
  email: v.string(),
  integrationId: v.string(),
  provider: v.string(),
  status: v.picklist(LINK_STATUSES),
  remoteId: Nullable,
  remoteUrl: Nullable,
  lastSyncedAt: Nullable,
  lastError: Nullable,
  manual: v.nullable(v.picklist(["linked", "unlinked"])),
});
const Accepted = v.object({ runId: v.string() });
const Unmatched = v.object({
  local: v.array(v.object({ id: v.string(), email: v.string(), name: Nullable, status: v.picklist(["active", "disabled", "deleted"]), reason: Nullable })),
  remote: v.array(v.object({ remoteId: v.string(), email: Nullable, name: Nullable, remoteUrl: Nullable })),
});
const LogOut = v.object({
  at: v.string(),
  userId: Nullable,
  action: v.picklist(LOG_ACTIONS),
  status: v.picklist(["ok", "failed", "skipped"]),
  remoteId: Nullable,
  detail: Nullable,
});
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
  links: describeRoute({ tags, security, summary: "The integration's links, by user id, optionally of one status", responses: { 200: jsonResponse("A page of links", v.object({ data: v.array(LinkOut), nextCursor: Nullable })), ...problems(400, 401, 403, 404, 422) } }),
  unmatched: describeRoute({
    tags,
    security,
    summary: "People without a remote record (`local`) and remote records without a person (`remote`, as the last reconciliation found them)",
    responses: { 200: jsonResponse("`{ local, remote }`", Unmatched), ...problems(401, 403, 404, 422) },
  }),
  putLink: describeRoute({
    tags,
    security,
    summary: "Link a person to a remote record by hand; the directory's values are then pushed to it",
    responses: { 200: jsonResponse("The link", LinkOut), ...problems(400, 401, 403, 404, 409, 413, 415, 422, 503) },
  }),
  deleteLink: describeRoute({
    tags,
    security,
    summary: "Unlink a person: the link becomes `unmatched` and is not matched again automatically; the remote record stays",
    responses: { 204: { description: "Unlinked" }, ...problems(401, 403, 404) },
  }),
  logs: describeRoute({ tags, security, summary: "One line per action taken on the remote system, newest first", responses: { 200: jsonResponse("A page of log lines", v.object({ data: v.array(LogOut), nextCursor: Nullable })), ...problems(400, 401, 403, 404, 422) } }),
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
