import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** One failing input location, as in API.md: `{ "path": "data.email", "message": "…" }`. */
export interface FieldError {
  path: string;
  message: string;
}

/** The problem kinds the hub answers with; each has one status and one `type` slug. */
const KINDS = {
  bad_request: { status: 400, title: "Bad request" },
  malformed_json: { status: 400, title: "Malformed JSON" },
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  reauth_required: { status: 403, title: "A recent sign-in is required" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  validation_failed: { status: 422, title: "Validation failed" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal: { status: 500, title: "Internal error" },
  unavailable: { status: 503, title: "Service unavailable" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ProblemKind = keyof typeof KINDS;

/**
 * The one error type thrown anywhere in the hub. `detail` is safe to show to the caller;
 * internal reasons go to `cause` and are logged, never returned.
 */
export class AppError extends Error {
  constructor(
    readonly kind: ProblemKind,
    readonly detail?: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
    options?: { cause?: unknown },
  ) {
    super(detail ?? KINDS[kind].title, options);
    this.name = "AppError";
  }

  get status(): ContentfulStatusCode {
    return KINDS[this.kind].status;
  }

  static notFound(what = "resource"): AppError {
    return new AppError("not_found", `No such ${what}.`);
  }
  static unauthorized(detail = "Missing or invalid credentials."): AppError {
    return new AppError("unauthorized", detail);
  }
  static conflict(detail: string): AppError {
    return new AppError("conflict", detail);
  }
  static validation(errors: FieldError[], detail = "The request does not match the expected shape."): AppError {
    return new AppError("validation_failed", detail, errors);
  }
  static config(internal: string): AppError {
    return new AppError("internal", undefined, undefined, undefined, { cause: new Error(internal) });
  }
}

/** The RFC 9457 body for an error kind. `type` is resolved against the hub's own URL. */
export function problemBody(kind: ProblemKind, detail?: string, errors?: FieldError[], requestId?: string) {
  const { status, title } = KINDS[kind];
  return {
    type: `/problems/${kind.replace(/_/g, "-")}`,
    title,
    status,
    ...(detail ? { detail } : {}),
    ...(errors && errors.length ? { errors } : {}),
    ...(requestId ? { requestId } : {}),
  };
}

/** Answers an error as `application/problem+json`. */
export function problemResponse(c: Context, err: AppError): Response {
  const body = problemBody(err.kind, err.detail, err.errors, c.get("requestId"));
  return new Response(JSON.stringify(body), {
    status: err.status,
    headers: { "content-type": "application/problem+json", ...err.headers },
  });
}

/** Hono's onError: every thrown thing becomes a problem; unknown ones a bare 500. */
export function onError(err: Error, c: Context): Response {
  if (err instanceof AppError) {
    if (err.status >= 500) logError(c, err.cause ?? err);
    return problemResponse(c, err);
  }
  if (err instanceof HTTPException) {
    // Hono raises these for malformed JSON bodies and the like.
    const kind: ProblemKind =
      err.status === 400 && /json/i.test(err.message)
        ? "malformed_json"
        : err.status === 413
          ? "payload_too_large"
          : err.status === 415
            ? "unsupported_media_type"
            : err.status === 401
              ? "unauthorized"
              : err.status === 400
                ? "bad_request"
                : "internal";
    return problemResponse(c, new AppError(kind, kind === "internal" ? undefined : err.message));
  }
  logError(c, err);
  return problemResponse(c, new AppError("internal"));
}

function logError(c: Context, err: unknown): void {
  const e = err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : { value: String(err) };
  console.error(JSON.stringify({ level: "error", requestId: c.get("requestId"), path: c.req.path, error: e }));
}
