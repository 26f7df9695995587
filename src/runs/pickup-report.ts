import type { Db } from "../db/client";
import { getLocation, noteLocation } from "../db/imports.repo";
import type { ImportRow, RunRow } from "../db/schema";
import { COUNT_KEYS } from "../db/vocabulary";
import type { Env } from "../env";
import { errorText, logger } from "../lib/log";
import { OutboundRefused } from "../lib/outbound";
import { S3Error } from "../lib/s3";
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

/**
 * Moves a picked-up file within the tenant's own location to `done/` or `failed/` under
 * its prefix, with `<name>.report.json` beside it. When the location cannot be reached the
 * file stays where it is, the location shows why (`lastError`), and the next look files
 * it away again (the import is remembered by its claim). Answers whether it was filed.
 */
export async function fileAway(db: Db, env: Env, imp: ImportRow, report: Report): Promise<boolean> {
  if (!imp.sourceKey) return true;
  const row = await getLocation(db, imp.tenantId);
  if (!row) return true;
  const relative = imp.sourceKey.startsWith(row.prefix) ? imp.sourceKey.slice(row.prefix.length) : imp.sourceKey;
  const to = `${row.prefix}${report.status === "applied" ? "done" : "failed"}/${relative}`;
  try {
    const bucket = await openLocation(env, row);
    await bucket.put(`${to}.report.json`, JSON.stringify(report, null, 2), "application/json");
    await bucket.move(imp.sourceKey, to);
    return true;
  } catch (err) {
    if (!(err instanceof S3Error || err instanceof OutboundRefused || err instanceof TypeError)) throw err;
    logger({ tenantId: imp.tenantId, importId: imp.id }).warn("a picked-up file could not be filed away; the next look tries again", { error: errorText(err) });
    await noteLocation(db, imp.tenantId, { at: Date.now(), error: `Filing ${imp.sourceKey} away failed: ${errorText(err)}` });
    return false;
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

/** When a picked-up file's run ends, whichever way: the file is filed with its report, and the summary goes. */
export async function finishPickup(db: Db, env: Env, imp: ImportRow, run: RunRow): Promise<void> {
  if (!imp.sourceKey) return;
  if (await fileAway(db, env, imp, await endedReport(env, imp, run))) await env.FILES.delete(summaryKey(imp));
}
