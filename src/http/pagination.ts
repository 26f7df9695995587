import * as v from "valibot";
import { fromBase64Url, toBase64Url, utf8 } from "../lib/encoding";
import { AppError } from "./errors";

/**
 * A whole-number query parameter from `min` to `max`. The OpenAPI document shows it as the
 * integer range the API enforces (a query value is text, so the check is on its digits).
 */
export function intQuery(min: number, max: number, fallback: number) {
  return v.pipe(
    v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d{1,9}$/, "Expected a whole number."),
        v.transform(Number),
        v.minValue(min, `Expected a number from ${min} to ${max}.`),
        v.maxValue(max, `Expected a number from ${min} to ${max}.`),
      ),
      String(fallback),
    ),
    v.metadata({ type: "integer", minimum: min, maximum: max, default: fallback, pattern: undefined }),
  );
}

/** API.md: `?limit=` (default 50, max 500) and `?cursor=`. */
export const PageQuery = {
  limit: intQuery(1, 500, 50),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(512))),
};

/** An opaque cursor carrying the sort key of the last row of a page. */
export function encodeCursor(key: string): string {
  return toBase64Url(utf8(JSON.stringify({ k: key })));
}

/** The sort key inside a cursor, null for the first page; a cursor the hub did not issue is a 400 (API.md). */
export function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(fromBase64Url(cursor)));
  } catch {
    parsed = null;
  }
  if (typeof parsed === "object" && parsed !== null && "k" in parsed && typeof parsed.k === "string") return parsed.k;
  throw new AppError("bad_request", "The cursor is not one this API issued; start again without it.");
}

/** `{ data, nextCursor }` from rows fetched with `limit + 1`. */
export function page<T>(rows: T[], limit: number, keyOf: (row: T) => string) {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
