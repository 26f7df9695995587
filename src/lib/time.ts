/** ISO-8601 UTC of epoch milliseconds (API.md: every timestamp is ISO-8601 UTC). */
export function iso(ms: number): string;
export function iso(ms: number | null | undefined): string | null;
export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
