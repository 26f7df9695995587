import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { ValidationTargets } from "hono";
import { validator } from "hono-openapi";
import { AppError, fieldErrors } from "../lib/errors";

export { fieldErrors } from "../lib/errors";

/**
 * valibot validation of one request part that also documents it in the OpenAPI
 * document; failures answer 422 with the failing paths. A path id that could never
 * exist (too long, wrong shape) is simply not found: 404, like an unknown one. `invalid`
 * says otherwise: `validation` (422) where the request would create what the path names,
 * `bad_request` (400) where API.md answers a bad link 400 (the OAuth callback and forms).
 */
export function validate<S extends StandardSchemaV1, T extends keyof ValidationTargets>(
  target: T,
  schema: S,
  { invalid = target === "param" ? "not_found" : "validation" }: { invalid?: "not_found" | "validation" | "bad_request" } = {},
) {
  return validator(target, schema, (result) => {
    if (!result.success) {
      if (invalid === "not_found") throw AppError.notFound();
      if (invalid === "bad_request") throw new AppError("bad_request", fieldErrors(result.error).map((e) => `${e.path}: ${e.message}`).join(" "));
      throw AppError.validation(fieldErrors(result.error));
    }
  });
}
