import { resolver } from "hono-openapi";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { problemBody } from "./errors";

/** A JSON response entry for `describeRoute({ responses })`. */
export function jsonResponse(description: string, schema: StandardSchemaV1) {
  return { description, content: { "application/json": { schema: resolver(schema) } } };
}

/** The problem+json responses a route can give, documented alike everywhere. */
export function problems(...statuses: (keyof typeof PROBLEM_KIND)[]) {
  const out: Record<number, { description: string; content: Record<string, { example: unknown }> }> = {};
  for (const status of statuses) {
    const kind = PROBLEM_KIND[status];
    out[status] = {
      description: problemBody(kind).title,
      content: { "application/problem+json": { example: problemBody(kind) } },
    };
  }
  return out;
}

const PROBLEM_KIND = {
  400: "malformed_json",
  401: "unauthorized",
  403: "reauth_required",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "validation_failed",
  429: "rate_limited",
} as const satisfies Record<number, Parameters<typeof problemBody>[0]>;
