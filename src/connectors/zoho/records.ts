import { ProviderError } from "../errors";
import { zohoApi, type ConnectorContext } from "./client";
import { zohoDataCenters } from "./datacenters";

// Zoho CRM v8 records (OAS `v8.0/record.json`, insert-records.html, COQL-Limitations.html).

/** At most 100 records per write call. */
export const WRITE_BATCH = 100;
/**
 * COQL (COQL-Limitations.html, v8): `in` takes up to 100 values (50 before v7) and WHERE
 * up to 25 criteria, so one query looks up 500 keys as five `in` lists joined by `or`;
 * at most 2,000 rows a call (a query that matches more is asked again in halves).
 */
const COQL_IN = 100;
const KEYS_PER_QUERY = 500;
/** Rows a COQL call can return; reconciliation lists this many records a call. */
export const COQL_PAGE = 2000;

export interface RemoteRecord {
  id: string;
  fields: Record<string, unknown>;
}

/** The outcome of one record of a write, in input order. */
export type RecordOutcome =
  | { ok: true; id: string; action: "insert" | "update" | "delete" }
  | { ok: false; code: string; message: string; field: string | null; duplicateId: string | null };

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Records whose `field` equals one of `values` (Zoho compares ignoring case; the caller decides). */
export async function findByKeys(ctx: ConnectorContext, module: string, field: string, values: string[], select: string[]): Promise<RemoteRecord[]> {
  const out: RemoteRecord[] = [];
  const fields = [...new Set(["id", field, ...select])].join(", ");
  const lookup = async (part: string[]): Promise<void> => {
    const lists: string[] = [];
    for (let j = 0; j < part.length; j += COQL_IN) lists.push(`(${field} in (${part.slice(j, j + COQL_IN).map(quote).join(", ")}))`);
    const where = lists.join(" or ");
    const { status, body } = await zohoApi(ctx, "POST", "/crm/v8/coql", { select_query: `select ${fields} from ${module} where ${where} limit ${COQL_PAGE}` });
    if (status === 204) return;
    if (status >= 400) throw new ProviderError("transient", `Zoho refused the lookup (${String((body as { code?: string }).code ?? status)}).`);
    const b = body as { data?: Record<string, unknown>[]; info?: { more_records?: boolean } };
    if (b.info?.more_records && part.length > 1) {
      // More than 2,000 matches: ask again in halves, so that none is missed.
      await lookup(part.slice(0, part.length >> 1));
      await lookup(part.slice(part.length >> 1));
      return;
    }
    for (const r of b.data ?? []) out.push({ id: String(r.id), fields: r });
  };
  for (let i = 0; i < values.length; i += KEYS_PER_QUERY) await lookup(values.slice(i, i + KEYS_PER_QUERY));
  return out;
}

/**
 * One page of a module's records in id order, after `afterId` (exclusive). Paging by id
 * rather than by offset, because COQL reads at most 100,000 rows by offset.
 */
export async function listPage(ctx: ConnectorContext, module: string, select: string[], afterId: string | null, limit = COQL_PAGE): Promise<{ records: RemoteRecord[]; more: boolean }> {
  const fields = [...new Set(["id", ...select])].join(", ");
  const where = afterId === null ? "id is not null" : `id > ${afterId.replace(/\D/g, "")}`;
  const { status, body } = await zohoApi(ctx, "POST", "/crm/v8/coql", { select_query: `select ${fields} from ${module} where ${where} order by id asc limit ${limit}` });
  if (status === 204) return { records: [], more: false };
  if (status >= 400) throw new ProviderError("transient", `Zoho refused the listing (${String((body as { code?: string }).code ?? status)}).`);
  const b = body as { data?: Record<string, unknown>[]; info?: { more_records?: boolean } };
  const records = (b.data ?? []).map((r) => ({ id: String(r.id), fields: r }));
  return { records, more: b.info?.more_records === true };
}

/** One record by id, or null when there is none. */
export async function getRecord(ctx: ConnectorContext, module: string, id: string): Promise<RemoteRecord | null> {
  const { status, body } = await zohoApi(ctx, "GET", `/crm/v8/${module}/${encodeURIComponent(id)}`);
  if (status === 204) return null;
  const code = (body as { code?: string } | null)?.code;
  if (status >= 400) {
    if (code === "INVALID_DATA") return null;
    throw new ProviderError("transient", `Zoho refused the read (${String(code ?? status)}).`);
  }
  const r = (body as { data?: Record<string, unknown>[] } | null)?.data?.[0];
  return r ? { id: String(r.id), fields: r } : null;
}

/** How long an integration pauses after Zoho refused a whole write request. */
const REQUEST_PAUSE_MS = 10 * 60_000;

function outcomes(body: unknown, count: number, fallback: "insert" | "update" | "delete"): RecordOutcome[] {
  const data = (body as { data?: unknown[] } | null)?.data;
  if (!Array.isArray(data) || data.length !== count) {
    // A refusal of the whole request (a permission taken away, a module renamed) says
    // nothing about the records: the integration waits and tries again.
    const b = body as { code?: string; message?: string } | null;
    throw new ProviderError("request", `Zoho refused the whole request (${b?.code ?? "UNKNOWN"}: ${b?.message ?? "no reason given"}); the integration pauses and tries again. Check the connected account's permissions and the module.`, REQUEST_PAUSE_MS);
  }
  return data.map((raw) => {
    const r = raw as { code?: string; status?: string; message?: string; action?: string; details?: Record<string, unknown> };
    if (r.status === "success") {
      return { ok: true as const, id: String(r.details?.id ?? ""), action: r.action === "insert" ? "insert" : r.action === "update" ? "update" : fallback };
    }
    const dup = r.details?.duplicate_record as { id?: string } | undefined;
    return {
      ok: false as const,
      code: r.code ?? "UNKNOWN",
      message: r.message ?? "error",
      field: typeof r.details?.api_name === "string" ? r.details.api_name : null,
      duplicateId: dup?.id ? String(dup.id) : null,
    };
  });
}

/** Inserts or updates by the duplicate-check fields: a retry after an unknown outcome never makes a second record. */
export async function upsertRecords(ctx: ConnectorContext, module: string, records: Record<string, unknown>[], duplicateCheck: string[]): Promise<RecordOutcome[]> {
  const { body } = await zohoApi(ctx, "POST", `/crm/v8/${module}/upsert`, { data: records, duplicate_check_fields: duplicateCheck, trigger: [] });
  return outcomes(body, records.length, "insert");
}

/** Updates records by id (each record carries `id`). */
export async function updateRecords(ctx: ConnectorContext, module: string, records: (Record<string, unknown> & { id: string })[]): Promise<RecordOutcome[]> {
  const { body } = await zohoApi(ctx, "PUT", `/crm/v8/${module}`, { data: records, trigger: [] });
  return outcomes(body, records.length, "update");
}

/** Deletes records by id; an id that is already gone counts as deleted. */
export async function deleteRecords(ctx: ConnectorContext, module: string, ids: string[]): Promise<RecordOutcome[]> {
  const { body } = await zohoApi(ctx, "DELETE", `/crm/v8/${module}?ids=${ids.map(encodeURIComponent).join(",")}`);
  return outcomes(body, ids.length, "delete").map((o, i) => (!o.ok && o.code === "INVALID_DATA" ? { ok: true as const, id: ids[i]!, action: "delete" as const } : o));
}

/** The organisation id, for record URLs. */
export async function fetchOrgId(ctx: ConnectorContext): Promise<string> {
  const { body } = await zohoApi(ctx, "GET", "/crm/v8/org");
  const id = (body as { org?: { id?: unknown }[] }).org?.[0]?.id;
  if (id === undefined) throw new ProviderError("transient", "Zoho's org answer has no id.");
  return String(id);
}

/** The URL a person opens to see the record: `{crm host}/crm/org{org}/tab/{module}/{id}`. */
export function recordUrl(crmHost: string, orgId: string, module: string, id: string): string {
  return `${crmHost.replace(/\/+$/, "")}/crm/org${orgId}/tab/${module}/${id}`;
}

/**
 * Record URLs need the org id (learnt at connect, or fetched once and kept on the
 * connection) and the data centre's CRM host.
 */
export async function recordUrlMaker(ctx: ConnectorContext, module: string): Promise<(id: string) => string | null> {
  const dc = zohoDataCenters(ctx.env).find((d) => d.id === ctx.connection.dataCenter);
  if (!dc?.crm) return () => null;
  let orgId = ctx.connection.orgId;
  if (!orgId) {
    orgId = await fetchOrgId(ctx);
    await ctx.saveFacts({ orgId });
  }
  const crm = dc.crm;
  const org = orgId;
  return (id) => recordUrl(crm, org, module, id);
}
