import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import { jsonResponse, problems, TENANT_SECURITY } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";
import { HANDLER_EVENTS } from "../../lib/config";
export { IntegrationParams } from "../../http/loaders";

const Nullable = v.nullable(v.string());
const NullableNumber = v.nullable(v.number());
const tags = ["Handlers"];
const security = TENANT_SECURITY;
const STATUSES = ["ok", "skipped", "failed", "retrying", "disabled"] as const;

export const HandlerLogsQuery = v.object({
  ...PageQuery,
  kind: v.optional(v.picklist(["before", "after"])),
  status: v.optional(v.picklist(STATUSES)),
});

const HandlerLogOut = v.object({
  at: v.string(),
  kind: v.picklist(["before", "after"]),
  event: Nullable,
  userId: Nullable,
  status: v.picklist(STATUSES),
  httpStatus: NullableNumber,
  durationMs: NullableNumber,
  attempt: NullableNumber,
  nextAttemptAt: Nullable,
  detail: Nullable,
});

export const TestBody = v.strictObject({ event: v.optional(v.picklist(HANDLER_EVENTS, `Expected one of ${HANDLER_EVENTS.join(", ")}.`)) });

const TestOut = v.object({ delivered: v.boolean(), httpStatus: NullableNumber, durationMs: v.number(), detail: Nullable });

export const contracts = {
  logs: describeRoute({
    tags,
    security,
    summary: "What the handlers did, newest first: each `before` evaluation that skipped or failed a person, and each `after` delivery attempt",
    responses: { 200: jsonResponse("A page of handler log lines", v.object({ data: v.array(HandlerLogOut), nextCursor: Nullable })), ...problems(400, 401, 403, 404, 422) },
  }),
  test: describeRoute({
    tags,
    security,
    summary: "Sends a sample event (default `user.synced`, with `\"test\": true`) to the after handler now, and answers what the receiver said",
    responses: { 200: jsonResponse("What the receiver answered", TestOut), ...problems(400, 401, 403, 404, 415, 422) },
  }),
};
