import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import { safeText } from "../../lib/user-fields";
import { jsonResponse, problems, TENANT_SECURITY } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";
import { UserIdParam as UserId } from "../../http/loaders";

export { IntegrationParams } from "../../http/loaders";

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(64));
const Nullable = v.nullable(v.string());
const tags = ["Runs and links"];
const security = TENANT_SECURITY;

export const LinkParams = v.object({ id: Id, userId: UserId });
/** A record id; its shape is checked by the integration's provider (422 when it is not one of its ids). */
export const LinkBody = v.strictObject({ remoteId: v.pipe(safeText(256), v.minLength(1)) });

export const LINK_STATUSES = ["synced", "pending", "invited", "failed", "excluded", "unmatched"] as const;
export const LinksQuery = v.object({ ...PageQuery, status: v.optional(v.picklist(LINK_STATUSES)) });
export const UnmatchedQuery = v.object({ limit: PageQuery.limit });
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
const Unmatched = v.object({
  local: v.array(v.object({ id: v.string(), email: v.string(), name: Nullable, status: v.picklist(["active", "disabled", "deleted"]), reason: Nullable })),
  remote: v.array(v.object({ remoteId: v.string(), email: Nullable, name: Nullable, remoteUrl: Nullable })),
});
export const contracts = {
  linksCsv: describeRoute({
    tags,
    security,
    summary: "The integration's links as CSV, for a spreadsheet",
    description: "Columns: userId, email, firstName, lastName, status, remoteId, remoteUrl, lastSyncedAt, lastError, manual. A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so no spreadsheet reads it as a formula.",
    responses: { 200: { description: "The links, one row each, ordered by user id", content: { "text/csv": { schema: { type: "string" } } } }, ...problems(401, 403, 404) },
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
};
