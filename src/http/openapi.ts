import { resolver } from "hono-openapi";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import * as v from "valibot";
import { problemBody } from "./errors";

/** RFC 9457 problem details as the hub answers them (API.md "Errors"). */
export const Problem = v.object({
  type: v.string(),
  title: v.string(),
  status: v.pipe(v.number(), v.integer()),
  detail: v.optional(v.string()),
  errors: v.optional(v.array(v.object({ path: v.string(), message: v.string() }))),
  requestId: v.optional(v.string()),
});

/** Who may call a route: OpenAPI `security` for the tenant API (an API key or a dashboard session). */
export const TENANT_SECURITY: Record<string, string[]>[] = [{ apiKey: [] }, { session: [] }];
/** A public route: no credentials (webhooks carry their own signature). */
export const PUBLIC: Record<string, string[]>[] = [];

/** A JSON response entry for `describeRoute({ responses })`. */
export function jsonResponse(description: string, schema: StandardSchemaV1) {
  return { description, content: { "application/json": { schema: resolver(schema) } } };
}

/** The problem+json responses a route can give, documented alike everywhere. */
export function problems(...statuses: (keyof typeof PROBLEM_KIND)[]) {
  const out: Record<number, { description: string; content: Record<string, { schema: ReturnType<typeof resolver>; example: unknown }> }> = {};
  for (const status of statuses) {
    const kind = PROBLEM_KIND[status];
    out[status] = {
      description: problemBody(kind).title,
      content: { "application/problem+json": { schema: resolver(Problem), example: problemBody(kind) } },
    };
  }
  return out;
}

const PROBLEM_KIND = {
  400: "malformed_json",
  401: "unauthorized",
  403: "reauth_required",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "validation_failed",
  429: "rate_limited",
  500: "internal",
  503: "unavailable",
} as const satisfies Record<number, Parameters<typeof problemBody>[0]>;
