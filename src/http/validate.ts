import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { ValidationTargets } from "hono";
import { validator } from "hono-openapi";
import { AppError, fieldErrors } from "../lib/errors";

export { fieldErrors } from "../lib/errors";

/**
 * valibot validation of one request part that also documents it in the OpenAPI
 * document; failures answer 422 with the failing paths. A path id that could never
 * exist (too long, wrong shape) is simply not found: 404, like an unknown one.
 */
export function validate<S extends StandardSchemaV1, T extends keyof ValidationTargets>(target: T, schema: S) {
  return validator(target, schema, (result) => {
    if (!result.success) {
      if (target === "param") throw AppError.notFound();
      throw AppError.validation(fieldErrors(result.error));
    }
  });
}
