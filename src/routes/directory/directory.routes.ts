import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import { userEntries } from "../../lib/user-fields";
import { jsonResponse, problems, TENANT_SECURITY } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";

/** `PUT` body: the full user; `id` may be left out (the path names it) but must match if given. */
export const PutUserBody = v.strictObject({ ...userEntries, id: v.optional(userEntries.id) });

export const UserParams = v.object({ id: v.pipe(v.string(), v.minLength(1), v.maxLength(256)) });

export const ListUsersQuery = v.object({
  ...PageQuery,
  q: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(200))),
  status: v.optional(v.picklist(["active", "disabled", "deleted"])),
});

const Nullable = v.nullable(v.string());
const LinkOut = v.object({
  integrationId: v.string(),
  provider: v.string(),
  status: v.string(),
  remoteId: Nullable,
  remoteUrl: Nullable,
  lastSyncedAt: Nullable,
  lastError: Nullable,
});

export const UserOut = v.object({
  id: v.string(),
  email: v.string(),
  firstName: Nullable,
  lastName: Nullable,
  status: v.picklist(["active", "disabled", "deleted"]),
  role: Nullable,
  department: Nullable,
  designation: Nullable,
  phone: Nullable,
  mobile: Nullable,
  workPhone: Nullable,
  extension: Nullable,
  workLocation: Nullable,
  seatingLocation: Nullable,
  dateOfBirth: Nullable,
  nickname: Nullable,
  gender: Nullable,
  reportingTo: Nullable,
  attributes: v.record(v.string(), v.string()),
  updatedAt: v.string(),
  version: v.number(),
  createdAt: v.string(),
});
const UserWithLinks = v.object({ ...UserOut.entries, links: v.array(LinkOut) });
const UserPage = v.object({ data: v.array(UserOut), nextCursor: Nullable });

export const putUserContract = describeRoute({
  tags: ["Directory"],
  summary: "Create or replace a directory user (201 created, 200 replaced)",
  description: "An `updatedAt` older than the stored version is refused with 409 and changes nothing.",
  security: TENANT_SECURITY,
  responses: {
    201: jsonResponse("Created", UserOut),
    200: jsonResponse("Replaced", UserOut),
    ...problems(400, 401, 403, 409, 413, 415, 422, 429),
  },
});

export const getUserContract = describeRoute({
  tags: ["Directory"],
  summary: "A directory user with its links",
  security: TENANT_SECURITY,
  responses: { 200: jsonResponse("The user", UserWithLinks), ...problems(401, 403, 404) },
});

export const listUsersContract = describeRoute({
  tags: ["Directory"],
  summary: "Directory users, paginated; `q` matches e-mail or name",
  security: TENANT_SECURITY,
  responses: { 200: jsonResponse("A page of users", UserPage), ...problems(400, 401, 403, 422) },
});

export const deleteUserContract = describeRoute({
  tags: ["Directory"],
  summary: "Delete a directory user (same effect as user.deleted)",
  description: "The user is kept with status `deleted` for each integration's deletion policy.",
  security: TENANT_SECURITY,
  responses: { 204: { description: "Deleted" }, ...problems(401, 403, 404, 429) },
});
