import { DEFAULT_MAX_DISABLE_PERCENT } from "../../lib/config";
import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import { jsonResponse, problems, TENANT_SECURITY } from "../../http/openapi";
import { PageQuery } from "../../http/pagination";
import { LocationInput } from "../../http/actions";

const tags = ["CSV imports"];
const security = TENANT_SECURITY;

export const ImportParams = v.object({ id: v.pipe(v.string(), v.minLength(1), v.maxLength(64)) });

export const PreviewBody = v.strictObject({
  /** Header → user field, `attributes.<name>`, or null to leave the column out. */
  mapping: v.record(v.pipe(v.string(), v.maxLength(256)), v.nullable(v.pipe(v.string(), v.maxLength(100)))),
  mode: v.optional(v.picklist(["partial", "full"]), "partial"),
  maxDisablePercent: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(100))),
});

export const MappingBody = v.strictObject({
  mapping: PreviewBody.entries.mapping,
  mode: v.optional(v.picklist(["partial", "full"]), "full"),
  maxDisablePercent: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(100)), DEFAULT_MAX_DISABLE_PERCENT),
});

export const MappingOut = v.object({ mapping: v.record(v.string(), v.nullable(v.string())), mode: v.picklist(["partial", "full"]), maxDisablePercent: v.number() });

export const ListImportsQuery = v.object({ ...PageQuery });

/** `POST /v1/imports?apply=saved`: upload and apply with the saved mapping in one call. */
export const UploadQuery = v.object({ apply: v.optional(v.literal("saved")) });

/** A pickup location of the tenant's own (shared with the dashboard's form: http/actions.ts). */
export const LocationBody = LocationInput;

export const LocationOut = v.object({
  kind: v.literal("s3"),
  endpoint: v.string(),
  region: v.string(),
  bucket: v.string(),
  prefix: v.string(),
  accessKeyId: v.string(),
  everyMinutes: v.number(),
  nextPickupAt: v.string(),
  lastPickupAt: v.nullable(v.string()),
  /** The location's own answer when it last refused (credentials, bucket, address); null while it answers. */
  lastError: v.nullable(v.string()),
});

const Mapping = v.record(v.string(), v.nullable(v.string()));

export const ImportOut = v.object({
  id: v.string(),
  rows: v.number(),
  headers: v.array(v.string()),
  suggestedMapping: Mapping,
  status: v.picklist(["uploaded", "applying", "applied", "failed"]),
  runId: v.nullable(v.string()),
  createdAt: v.string(),
});

export const PreviewOut = v.object({
  create: v.number(),
  update: v.number(),
  disable: v.number(),
  unchanged: v.number(),
  errors: v.array(v.object({ row: v.number(), column: v.nullable(v.string()), message: v.string() })),
  sample: v.array(v.object({ row: v.number(), action: v.picklist(["create", "update", "disable"]), user: v.record(v.string(), v.unknown()) })),
});

export const contracts = {
  upload: describeRoute({
    tags,
    summary: "Upload a CSV file of people",
    description:
      "`Content-Type: text/csv` or `application/csv` (UTF-8, optional BOM, RFC 4180 quoting, comma or semicolon), at most 50 MiB, chunked or not. The file is stored as it streams in; the answer counts its data rows and suggests a mapping of its headers. Nothing changes in the directory until an apply. With `?apply=saved` the file is applied at once with the saved mapping and mode (202 with the run; 422 without a saved mapping, 409 past the guard, nothing changed): what a scheduled job on the customer's side calls.",
    security,
    requestBody: { required: true, content: { "text/csv": { schema: { type: "string" } }, "application/csv": { schema: { type: "string" } } } },
    responses: {
      201: jsonResponse("The stored file: rows, headers and a suggested mapping", ImportOut),
      202: jsonResponse("With `?apply=saved`: the stored file and the run applying it", v.object({ id: v.string(), runId: v.string() })),
      ...problems(401, 403, 409, 413, 415, 422),
    },
  }),
  list: describeRoute({ tags, summary: "The tenant's imports, newest first", security, responses: { 200: jsonResponse("A page of imports", v.object({ data: v.array(ImportOut), nextCursor: v.nullable(v.string()) })), ...problems(400, 401, 422) } }),
  get: describeRoute({ tags, summary: "One import", security, responses: { 200: jsonResponse("The import", ImportOut), ...problems(401, 404) } }),
  preview: describeRoute({
    tags,
    summary: "What applying the file with this mapping would do; changes nothing",
    description:
      "Counts of create, update, disable and unchanged, the first 20 planned changes and the row errors (`row` counts from 1 for the first data row). Rows with errors are left out of the plan. In `full` mode everyone active who is absent from the file is disabled; when the disables exceed `maxDisablePercent` (default 20) of the active people, 409.",
    security,
    responses: { 200: jsonResponse("The plan", PreviewOut), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
  }),
  apply: describeRoute({
    tags,
    summary: "Apply the file with this mapping, as an import run",
    description:
      "The same body as the preview. The plan is made now (its row errors are left out, 409 past the guard) and carried out as an `import` run in pages: each change goes through the directory like any other source, and each changed person is pushed to every active integration. Applying the same file twice changes nothing the second time.",
    security,
    responses: { 202: jsonResponse("The run", v.object({ runId: v.string() })), ...problems(400, 401, 403, 404, 409, 413, 415, 422) },
  }),
  getMapping: describeRoute({ tags, summary: "The saved mapping for scheduled pickup", security, responses: { 200: jsonResponse("The saved mapping", MappingOut), ...problems(401, 404) } }),
  putMapping: describeRoute({
    tags,
    summary: "Save the mapping that scheduled pickup and upload-and-apply use",
    description: "Files in the tenant's pickup location (`PUT /v1/imports/location`) and files sent with `POST /v1/imports?apply=saved` are applied with this mapping (`full` mode unless it says otherwise).",
    security,
    responses: { 200: jsonResponse("The saved mapping", MappingOut), ...problems(400, 401, 403, 413, 415, 422) },
  }),
  getLocation: describeRoute({ tags, summary: "The tenant's pickup location (without its secret)", security, responses: { 200: jsonResponse("The location", LocationOut), ...problems(401, 404) } }),
  putLocation: describeRoute({
    tags,
    summary: "Set the tenant's own pickup location",
    description:
      "An S3-compatible bucket of the tenant's (R2, S3, MinIO), path-style at `endpoint`. CSV files under `prefix` are imported with the saved mapping every `everyMinutes` (default 15) and moved to `done/` or `failed/` under the prefix with a `<name>.report.json` beside each. The secret is stored encrypted and never returned. The location is tried at once: a refusal is saved and shown as `lastError` (and on the dashboard) until the location answers.",
    security,
    responses: { 200: jsonResponse("The location", LocationOut), ...problems(400, 401, 403, 413, 415, 422) },
  }),
  deleteLocation: describeRoute({ tags, summary: "Stop picking up from the tenant's location", security, responses: { 204: { description: "Removed" }, ...problems(401, 403, 404) } }),
};
