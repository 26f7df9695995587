import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import { jsonResponse, problems, TENANT_SECURITY } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";
import { UserIdParam as UserId } from "../../http/loaders";
import { LOG_ACTIONS } from "../../db/vocabulary";
export { IntegrationParams } from "../../http/loaders";

const Nullable = v.nullable(v.string());
const tags = ["Runs and links"];
const security = TENANT_SECURITY;

export const LogsQuery = v.object({
  ...PageQuery,
  userId: v.optional(UserId),
  status: v.optional(v.picklist(["ok", "failed", "skipped"])),
  action: v.optional(v.picklist(LOG_ACTIONS)),
});
const LogOut = v.object({
  at: v.string(),
  userId: Nullable,
  action: v.picklist(LOG_ACTIONS),
  status: v.picklist(["ok", "failed", "skipped"]),
  remoteId: Nullable,
  detail: Nullable,
});
export const contracts = {
  logs: describeRoute({ tags, security, summary: "One line per action taken on the remote system, newest first", responses: { 200: jsonResponse("A page of log lines", v.object({ data: v.array(LogOut), nextCursor: Nullable })), ...problems(400, 401, 403, 404, 422) } }),
};
