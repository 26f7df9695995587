import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ProviderError } from "../connectors/errors";
import { AppError, KINDS, type FieldError, type ProblemKind } from "../lib/errors";
import { logger, type Logger } from "../lib/log";

export { AppError, type FieldError, type ProblemKind } from "../lib/errors";

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
  if (err instanceof ProviderError) return problemResponse(c, providerProblem(err));
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

/** A provider's failure that a route did not handle itself, as the problem a caller can act on. */
function providerProblem(err: ProviderError): AppError {
  const retry = { "retry-after": String(err.retryAfterMs ? Math.ceil(err.retryAfterMs / 1000) : 30) };
  switch (err.kind) {
    case "transient":
    case "retryAfter":
    case "config":
    case "request":
      return new AppError("unavailable", `The provider could not do it now: ${err.detail}`, undefined, retry);
    case "reauth":
      return AppError.conflict(`${err.detail} Reconnect the integration.`);
    case "conflict":
      return AppError.conflict(err.detail);
    case "badData":
    case "fatal":
      return new AppError("bad_request", err.detail);
    default:
      return err.kind satisfies never;
  }
}

function logError(c: Context, err: unknown): void {
  const e = err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : { value: String(err) };
  // An error before the logger was set (a malformed request) still gets its line.
  const log: Logger = c.get("log") ?? logger({ requestId: c.get("requestId"), path: c.req.path });
  log.error("request failed", { error: e });
}
