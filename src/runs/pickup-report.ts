import type { Db } from "../db/client";
import { getLocation, noteLocation } from "../db/imports.repo";
import type { ImportRow, RunRow } from "../db/schema";
import { COUNT_KEYS } from "../db/vocabulary";
import type { Env } from "../env";
import { errorText, logger } from "../lib/log";
import { openLocation } from "./pickup-location";

/** What the report beside a picked-up file says. */
export interface Report {
  importId: string;
  runId: string | null;
  status: "applied" | "failed";
  /** The file's key in the tenant's location, as it was found. */
  file: string;
  rows: number;
  counts?: Record<string, number>;
  errors?: unknown[];
  detail?: string;
  finishedAt: string;
}

/** Where a picked-up import's summary (its plan's row errors) waits for the end of its run, in the hub's own R2. */
export function summaryKey(imp: Pick<ImportRow, "tenantId" | "id">): string {
  return `plans/${imp.tenantId}/${imp.id}.summary.json`;
}

/** The ETag of the version of a picked-up file that was imported (its claim key ends `@etag@time`). */
function importedEtag(imp: ImportRow): string | null {
  const parts = imp.pickupKey?.split("@") ?? [];
  return parts.length >= 3 ? parts[parts.length - 2]! : null;
}

/**
 * Moves a picked-up file within the tenant's own location to `done/` or `failed/` under
 * its prefix, with `<name>.report.json` beside it: copied only if the key still holds the
 * version that was imported (a newer one dropped meanwhile stays, to be imported next),
 * then the report, then the original deleted. When the location cannot be reached the
 * file stays where it is and the next look files it away again (the import is remembered
 * by its claim). Answers what the location refused, or null.
 */
export async function fileAway(db: Db, env: Env, imp: ImportRow, report: Report): Promise<string | null> {
  if (!imp.sourceKey) return null;
  const row = await getLocation(db, imp.tenantId);
  if (!row) return null;
  const relative = imp.sourceKey.startsWith(row.prefix) ? imp.sourceKey.slice(row.prefix.length) : imp.sourceKey;
  const to = `${row.prefix}${report.status === "applied" ? "done" : "failed"}/${relative}`;
  try {
    const bucket = await openLocation(env, row);
    if (!(await bucket.copy(imp.sourceKey, to, importedEtag(imp)))) return null;
    await bucket.put(`${to}.report.json`, JSON.stringify(report, null, 2), "application/json");
    await bucket.delete(imp.sourceKey);
    return null;
  } catch (err) {
    const why = `Filing ${imp.sourceKey} away failed: ${errorText(err)}`;
    logger({ tenantId: imp.tenantId, importId: imp.id }).warn("a picked-up file could not be filed away; the next look tries again", { error: errorText(err) });
    await noteLocation(db, imp.tenantId, { at: Date.now(), error: why });
    return why;
  }
}

/** The report of a picked-up file whose run ended: the run's counts, and the plan's row errors. */
export async function endedReport(env: Env, imp: ImportRow, run: RunRow): Promise<Report> {
  const summary = await env.FILES.get(summaryKey(imp));
  const { errors } = summary ? ((await summary.json()) as { errors: unknown[] }) : { errors: [] };
  const counts = Object.fromEntries(COUNT_KEYS.map((k) => [k, run[k]]));
  const status = run.status === "done" ? "applied" : "failed";
  return {
    importId: imp.id,
    runId: run.id,
    status,
    file: imp.sourceKey ?? imp.objectKey,
    rows: imp.rows,
    counts,
    errors,
    ...(status === "failed" ? { detail: run.detail ?? `The import's run ended ${run.status}.` } : {}),
    finishedAt: new Date().toISOString(),
  };
}

/** When a picked-up file's run ends, whichever way: the file is filed with its report, and the summary goes. Answers what the location refused, or null. */
export async function finishPickup(db: Db, env: Env, imp: ImportRow, run: RunRow): Promise<string | null> {
  if (!imp.sourceKey) return null;
  const refused = await fileAway(db, env, imp, await endedReport(env, imp, run));
  if (!refused) await env.FILES.delete(summaryKey(imp));
  return refused;
}
