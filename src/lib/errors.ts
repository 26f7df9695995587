/**
 * The hub's one error type, for every layer: a problem kind with one HTTP status each,
 * and a `detail` that is safe to show. http/errors.ts renders it as problem+json.
 */
/** One failing input location, as in API.md: `{ "path": "data.email", "message": "…" }`. */
export interface FieldError {
  path: string;
  message: string;
}

/** The problem kinds the hub answers with; each has one status and one `type` slug. */
export const KINDS = {
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
} as const satisfies Record<string, { status: number; title: string }>;

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

  get status(): (typeof KINDS)[ProblemKind]["status"] {
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

/** An issue as Standard Schema and valibot both report it. */
interface Issue {
  message: string;
  path?: readonly (PropertyKey | { key: unknown })[] | undefined;
}

/** Turns validation issues into API.md's `errors: [{ path, message }]`. */
export function fieldErrors(issues: readonly Issue[], prefix = ""): FieldError[] {
  return issues.map((issue) => {
    const parts = (issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p));
    const path = [prefix, ...parts].filter(Boolean).join(".");
    return { path: path || "(root)", message: issue.message };
  });
}
