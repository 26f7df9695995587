import * as v from "valibot";

/**
 * The directory user's shape (API.md), as far as every layer needs it: the engine maps
 * these fields, the integration config names them, the directory stores them.
 */
/** The profile fields of API.md besides id, e-mail, names and status. */
export const PROFILE_FIELDS = [
  "role",
  "department",
  "designation",
  "phone",
  "mobile",
  "workPhone",
  "extension",
  "workLocation",
  "seatingLocation",
  "dateOfBirth",
  "nickname",
  "gender",
  "reportingTo",
] as const;

const MAX_FIELD = 256;

/**
 * What no text the hub stores may hold: control characters other than tab, line feed and
 * carriage return (a NUL cuts a value short in some stores and apps, an escape sequence
 * repaints a terminal), and UTF-16 surrogates that pair with nothing (no UTF-8 can carry
 * them, so they would be stored as something else than was sent).
 */
const UNSAFE_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A string of at most `max` characters without control characters or unpaired surrogates. */
export function safeText(max: number) {
  return v.pipe(
    v.string(),
    v.maxLength(max, `At most ${max} characters.`),
    v.check((s) => !UNSAFE_TEXT.test(s), "Control characters (other than tab and line breaks) and unpaired surrogates are not allowed."),
  );
}

const text = () => safeText(MAX_FIELD);
const optionalText = () => v.optional(v.nullable(text()));

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** YYYY-MM-DD that names a real calendar day. */
const isoDate = v.pipe(
  v.string(),
  v.regex(DATE, "Expected a calendar date as YYYY-MM-DD."),
  v.check((s) => !DATE.test(s) || realDay(s), "Expected a calendar date as YYYY-MM-DD."),
  v.metadata({ format: "date" }),
);

const DATE_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const DATE_TIME_MESSAGE = "Expected an ISO-8601 date-time with a time zone, e.g. 2026-11-21T10:00:00Z.";

/**
 * An RFC 3339 date-time (ISO 8601 with seconds and a zone), e.g. 2026-11-21T10:00:00Z.
 * The pattern is what the OpenAPI document shows; the check refuses impossible dates.
 */
export const isoDateTime = v.pipe(
  v.string(),
  v.regex(DATE_TIME, DATE_TIME_MESSAGE),
  v.check((s) => !DATE_TIME.test(s) || realDay(s.slice(0, 10)), DATE_TIME_MESSAGE),
  v.metadata({ format: "date-time" }),
);

/** Whether YYYY-MM-DD names a day that exists (no 30 February). */
function realDay(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

/**
 * An e-mail address as the hub takes it: a dot-atom local part (RFC 5322, no quoted
 * forms) and a domain of letters, digits and hyphens with at least one dot. The
 * document shows this pattern, so it states exactly what the API accepts.
 */
export const EMAIL_PATTERN = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;


const profileEntries = {
  role: optionalText(),
  department: optionalText(),
  designation: optionalText(),
  phone: optionalText(),
  mobile: optionalText(),
  workPhone: optionalText(),
  extension: optionalText(),
  workLocation: optionalText(),
  seatingLocation: optionalText(),
  dateOfBirth: v.optional(v.nullable(isoDate)),
  nickname: optionalText(),
  gender: optionalText(),
  reportingTo: optionalText(),
  /** Extra string fields: where anything outside the contract's fields goes. */
  attributes: v.optional(
    v.pipe(
      v.record(v.pipe(safeText(64), v.minLength(1)), text()),
      v.check((r) => Object.keys(r).length <= 100, "At most 100 attributes."),
    ),
  ),
};

/** The fields of a user; `id` and `email` required. */
export const userEntries = {
  id: v.pipe(safeText(MAX_FIELD), v.minLength(1, "Give the source's id of the person.")),
  email: v.pipe(v.string(), v.maxLength(254, "At most 254 characters."), v.regex(EMAIL_PATTERN, "Not an e-mail address.")),
  firstName: optionalText(),
  lastName: optionalText(),
  status: v.optional(v.picklist(["active", "disabled"], "Expected active or disabled.")),
  ...profileEntries,
  updatedAt: v.optional(isoDateTime),
};

/**
 * A user as the source sends it (API.md "Directory"). Only `id` and `email` are required;
 * keys outside the contract are refused (422) rather than dropped silently — extra
 * fields belong in `attributes`.
 */
export const UserInput = v.strictObject(userEntries);
export type UserInput = v.InferOutput<typeof UserInput>;

/** For `user.disabled` and `user.deleted` only the id is needed. */
export const UserRef = v.strictObject({ ...userEntries, email: v.optional(userEntries.email) });
export type UserRef = v.InferOutput<typeof UserRef>;

