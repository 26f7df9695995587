import type { ConnectorContext, PushConnector, RecordOutcome, RecordUpdate, RemoteRecord } from "../contract";
import { ProviderError } from "../errors";
import { zohoApi } from "../zoho/client";
import { findDataCenter } from "../zoho/datacenters";
import { ZOHO_CRM_LIMITS } from "./facts";

// Zoho CRM v8 records (OAS `v8.0/record.json`, insert-records.html, COQL-Limitations.html).

/** COQL (COQL-Limitations.html, v8): an `in` takes up to 100 values (50 before v7). */
const COQL_IN = 100;
const KEYS_PER_QUERY = ZOHO_CRM_LIMITS.lookupBatch;
const COQL_PAGE = ZOHO_CRM_LIMITS.listPage;

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Records whose `field` equals one of `values` (Zoho compares ignoring case; the caller decides). */
async function findByKeys(ctx: ConnectorContext, module: string, field: string, values: string[]): Promise<RemoteRecord[]> {
  const out: RemoteRecord[] = [];
  const fields = [...new Set(["id", field])].join(", ");
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
async function listPage(ctx: ConnectorContext, module: string, select: string[], afterId: string | null, limit = COQL_PAGE): Promise<{ records: RemoteRecord[]; more: boolean }> {
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
async function getRecord(ctx: ConnectorContext, module: string, id: string): Promise<RemoteRecord | null> {
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

/** Zoho's answer to a write, one outcome a record; a refusal of the whole request throws. */
function recordOutcomes(body: unknown, count: number, fallback: "insert" | "update" | "delete", gone: (code: string, field: string | null) => boolean): RecordOutcome[] {
  const data = (body as { data?: unknown[] } | null)?.data;
  if (!Array.isArray(data) || data.length !== count) {
    // A refusal of the whole request (a permission taken away, a module renamed) says
    // nothing about the records: the integration waits and tries again.
    const b = body as { code?: string; message?: string } | null;
    throw new ProviderError("request", `Zoho refused the whole request (${b?.code ?? "UNKNOWN"}: ${b?.message ?? "no reason given"}); the integration pauses and tries again. Check the connected account's permissions and the module.`, REQUEST_PAUSE_MS);
  }
  return data.map((raw): RecordOutcome => {
    const r = raw as { code?: string; status?: string; message?: string; action?: string; details?: Record<string, unknown> };
    if (r.status === "success") {
      return { ok: true, id: String(r.details?.id ?? ""), action: r.action === "insert" ? "insert" : r.action === "update" ? "update" : fallback };
    }
    const code = r.code ?? "UNKNOWN";
    const field = typeof r.details?.api_name === "string" ? r.details.api_name : null;
    if (gone(code, field)) return { ok: false, error: "gone", message: `Zoho: ${r.message ?? "the record no longer exists"} (${code})`, field };
    return { ok: false, error: "badData", message: `Zoho: ${r.message ?? "error"} (${code}${field ? `, field ${field}` : ""})`, field };
  });
}

/** Inserts or updates by the duplicate-check fields: a retry after an unknown outcome never makes a second record. */
async function upsertRecords(ctx: ConnectorContext, module: string, records: Record<string, unknown>[], keyField: string): Promise<RecordOutcome[]> {
  const { body } = await zohoApi(ctx, "POST", `/crm/v8/${module}/upsert`, { data: records, duplicate_check_fields: [keyField], trigger: [] });
  return recordOutcomes(body, records.length, "insert", () => false);
}

/** Updates by id; an id Zoho calls invalid is a record deleted in Zoho (`gone`). */
async function updateRecords(ctx: ConnectorContext, module: string, records: RecordUpdate[]): Promise<RecordOutcome[]> {
  const { body } = await zohoApi(ctx, "PUT", `/crm/v8/${module}`, { data: records.map((r) => ({ ...r.fields, id: r.id })), trigger: [] });
  return recordOutcomes(body, records.length, "update", (code, field) => code === "INVALID_DATA" && field === "id");
}

/** Deletes records by id; an id that is already gone counts as deleted. */
async function deleteRecords(ctx: ConnectorContext, module: string, ids: string[]): Promise<RecordOutcome[]> {
  const { body } = await zohoApi(ctx, "DELETE", `/crm/v8/${module}?ids=${ids.map(encodeURIComponent).join(",")}`);
  return recordOutcomes(body, ids.length, "delete", (code) => code === "INVALID_DATA").map((o, i) => (!o.ok && o.error === "gone" ? { ok: true, id: ids[i]!, action: "delete" } : o));
}

/** The organisation id, for record URLs. */
async function fetchOrgId(ctx: ConnectorContext): Promise<string> {
  const { body } = await zohoApi(ctx, "GET", "/crm/v8/org");
  const id = (body as { org?: { id?: unknown }[] }).org?.[0]?.id;
  if (id === undefined) throw new ProviderError("transient", "Zoho's org answer has no id.");
  return String(id);
}

/** The URL a person opens to see the record: `{crm host}/crm/org{org}/tab/{module}/{id}`. */
function recordUrl(crmHost: string, orgId: string, module: string, id: string): string {
  return `${crmHost}/crm/org${orgId}/tab/${module}/${id}`;
}

/**
 * Record URLs need the org id (learnt at connect, or fetched once and kept on the
 * connection) and the data centre's CRM host.
 */
async function recordUrlMaker(ctx: ConnectorContext, module: string): Promise<(id: string) => string | null> {
  const dc = findDataCenter(ctx.env, { id: ctx.connection.dataCenter, accounts: ctx.connection.accountsServer });
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

/** Contacts and Leads name a person; other modules have no name fields the hub knows. */
function nameFields(module: string): string[] {
  return module === "Contacts" || module === "Leads" ? ["First_Name", "Last_Name"] : [];
}

function nameOf(fields: Record<string, unknown>): string | null {
  const parts = [fields.First_Name, fields.Last_Name].filter((p): p is string => typeof p === "string" && p !== "");
  return parts.length ? parts.join(" ") : typeof fields.Full_Name === "string" ? fields.Full_Name : null;
}

/** Zoho CRM as a target: records of a module, found by COQL, written by upsert and id. */
export const zohoCrmPush: PushConnector = {
  // The duplicate check of an upsert compares ignoring case.
  keysIgnoreCase: true,
  find: findByKeys,
  create: upsertRecords,
  update: updateRecords,
  remove: deleteRecords,
  get: getRecord,
  isRecordId: (id) => /^\d{1,30}$/.test(id),
  recordUrls: recordUrlMaker,
  list: (ctx, module, fields, after) => listPage(ctx, module, fields, after),
  nameFields,
  nameOf,
};
