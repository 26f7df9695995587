import type { Db } from "../db/client";
import { setImportObject } from "../db/imports.repo";
import type { ImportRow, RunRow } from "../db/schema";
import { COUNT_KEYS } from "../db/vocabulary";
import { moveObject } from "../directory/csv";
import type { Env } from "../env";

/** Where files for scheduled pickup are dropped: `inbox/{tenantId}/<name>`. */
export const INBOX = "inbox/";

/** What the report beside a picked-up file says. */
export interface Report {
  importId: string;
  runId: string | null;
  status: "applied" | "failed";
  file: string;
  rows: number;
  counts?: Record<string, number>;
  errors?: unknown[];
  detail?: string;
  finishedAt: string;
}

export function nameOf(key: string): { tenantId: string; name: string } | null {
  const [, tenantId, ...rest] = key.split("/");
  const name = rest.join("/");
  return tenantId && name && !name.endsWith("/") ? { tenantId, name } : null;
}

export function summaryKey(imp: Pick<ImportRow, "tenantId" | "id">): string {
  return `plans/${imp.tenantId}/${imp.id}.summary.json`;
}

/** Moves the file to done/ or failed/ with its report beside it. */
export async function fileAway(env: Env, db: Db, imp: ImportRow, name: string, report: Report): Promise<void> {
  const folder = report.status === "applied" ? "done" : "failed";
  const to = `${folder}/${imp.tenantId}/${name}`;
  await moveObject(env.FILES, imp.objectKey, to);
  await setImportObject(db, imp.id, to);
  await env.FILES.put(`${to}.report.json`, JSON.stringify(report, null, 2), { httpMetadata: { contentType: "application/json" } });
}

/** When a picked-up file's run ends: the file moves to done/ with the run's counts and the plan's row errors. */
export async function finishPickup(db: Db, env: Env, imp: ImportRow, run: RunRow): Promise<void> {
  if (!imp.pickupKey || !imp.objectKey.startsWith(INBOX)) return;
  const summary = await env.FILES.get(summaryKey(imp));
  const { name, errors } = summary ? ((await summary.json()) as { name: string; errors: unknown[] }) : { name: nameOf(imp.objectKey)?.name ?? imp.id, errors: [] };
  const counts = Object.fromEntries(COUNT_KEYS.map((k) => [k, run[k]]));
  await fileAway(env, db, imp, name, { importId: imp.id, runId: run.id, status: "applied", file: name, rows: imp.rows, counts, errors, finishedAt: new Date().toISOString() });
  await env.FILES.delete(summaryKey(imp));
}
