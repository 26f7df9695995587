import { listLogs } from "../../../db/logs.repo";
import { getRun, listRuns, runCursorKey, runView } from "../../../db/runs.repo";
import { LOG_ACTIONS } from "../../../db/vocabulary";
import { getIntegration, listIntegrations, type Integration } from "../../../integrations/store";
import { encodeCursor, decodeCursor } from "../../../http/pagination";
import type { Dash } from "../session";

/** People (or runs, or log lines) a page lists. */
const PAGE = 50;

/** What the pages of this folder show, loaded here: the views (`views.tsx`) get it as props and query nothing. */

export async function loadRunsPage({ c, integrationId, cursor }: { c: Dash; integrationId: string | undefined; cursor: string | undefined }) {
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const rows = await listRuns(db, tenantId, { integrationId }, cursor ? decodeCursor(cursor) : null, PAGE + 1);
  const runs = rows.slice(0, PAGE);
  const names = new Map((await listIntegrations(db, tenantId, null, 200)).map((i) => [i.id, i.name]));
  const next = rows.length > PAGE ? encodeCursor(runCursorKey(runs.at(-1)!)) : null;
  return { runs, names, next };
}

export type RunsPageData = NonNullable<Awaited<ReturnType<typeof loadRunsPage>>>;

export async function loadRunPage({ c, runId }: { c: Dash; runId: string; notice?: string | undefined }) {
  const db = c.get("db");
  const row = await getRun(db, c.get("tenant").id, runId);
  if (!row) return null;
  const run = runView(row);
  const integration: Integration | null = run.integrationId ? await getIntegration(db, row.tenantId, run.integrationId) : null;
  const open = run.status === "running" || run.status === "held";
  return { row, run, integration, open };
}

export type RunPageData = NonNullable<Awaited<ReturnType<typeof loadRunPage>>>;

export async function loadLogsPage({ c, integration, filter, before }: { c: Dash; integration: Integration; filter: { userId?: string; action?: string; status?: string }; before: number | null }) {
  const action = (LOG_ACTIONS as readonly string[]).includes(filter.action ?? "") ? (filter.action as (typeof LOG_ACTIONS)[number]) : undefined;
  const status = filter.status === "ok" || filter.status === "failed" || filter.status === "skipped" ? filter.status : undefined;
  const rows = await listLogs(c.get("db"), integration, { userId: filter.userId || undefined, action, status }, before, PAGE + 1);
  const shown = rows.slice(0, PAGE);
  const next = rows.length > PAGE ? shown.at(-1)!.id : null;
  const base = `/dashboard/integrations/${integration.id}/logs`;
  const query = (extra: Record<string, string>) => new URLSearchParams({ ...(filter.userId ? { userId: filter.userId } : {}), ...(action ? { action } : {}), ...(status ? { status } : {}), ...extra }).toString();
  return { action, status, rows, shown, next, base, query };
}

export type LogsPageData = NonNullable<Awaited<ReturnType<typeof loadLogsPage>>>;
