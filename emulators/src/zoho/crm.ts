import { Hono, type Context } from "hono";
import { world, zohoId, zohoTime, type CrmOrg, type Record_, type ZohoDc } from "../state";
import { fieldsOf, MODULES } from "./metadata";
import { checkZohoToken, zohoError } from "./auth";
import { runCoql } from "./coql";

// Zoho CRM v8 (OAS `v8.0/record.json`, `users.json`; insert-records.html; COQL-Limitations.html).

const MAX_RECORDS = 100;
const MAX_PER_PAGE = 200;
const MANDATORY: Record<string, string[]> = {
  Contacts: ["Last_Name"],
  Leads: ["Last_Name"],
  Accounts: ["Account_Name"],
  Events: ["Event_Title", "Start_DateTime", "End_DateTime"],
};
/** System duplicate-check fields, used when a request names none. */
const SYSTEM_DUPLICATE_FIELDS: Record<string, string[]> = { Contacts: ["Email"], Leads: ["Email"], Accounts: ["Account_Name"], Events: [] };
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const USER_TYPES: Record<string, (u: Record_) => boolean> = {
  AllUsers: (u) => u.status !== "deleted",
  ActiveUsers: (u) => u.status === "active",
  DeactiveUsers: (u) => u.status === "inactive",
  ConfirmedUsers: (u) => u.confirm === true,
  NotConfirmedUsers: (u) => u.confirm !== true,
  DeletedUsers: (u) => u.status === "deleted",
  AdminUsers: (u) => (u.profile as { name?: string } | undefined)?.name === "Administrator",
};

export const crm = new Hono();

function org(c: Context): CrmOrg | null {
  return world.zoho.orgs[c.req.param("dc") as ZohoDc] ?? null;
}

function moduleStore(c: Context): Map<string, Record_> | null {
  return org(c)?.modules.get(c.req.param("module") ?? "") ?? null;
}

/** The route's module store, after the module and the token's scope for `op` are checked. */
function moduleAccess(c: Context, op: "READ" | "CREATE" | "UPDATE" | "DELETE"): { module: string; store: Map<string, Record_> } | Response {
  const module = c.req.param("module") ?? "";
  const store = moduleStore(c);
  if (!store) return zohoError(c, 400, "INVALID_MODULE", "the module name given seems to be invalid");
  const auth = checkZohoToken(c, `ZohoCRM.modules.${module.toLowerCase()}.${op}`);
  if (auth.error) return auth.error;
  return { module, store };
}

const creator = { name: "Emulator Admin", id: "5725767000000400001", email: "admin@acme.example" };

type Outcome = { code: string; details: Record<string, unknown>; message: string; status: "success" | "error"; duplicate_field?: string | null; action?: "insert" | "update" };

function recordError(code: string, message: string, details: Record<string, unknown>): Outcome {
  return { code, details, message, status: "error" };
}

function sameValue(a: unknown, b: unknown, field: string): boolean {
  if (typeof a !== "string" || typeof b !== "string") return a === b;
  return field === "Email" && world.settings.crmDuplicateCheckIgnoresCase ? a.toLowerCase() === b.toLowerCase() : a === b;
}

function findDuplicate(store: Map<string, Record_>, rec: Record<string, unknown>, fields: string[], exceptId?: string) {
  for (const field of fields) {
    const value = rec[field];
    if (value === undefined || value === null || value === "") continue;
    for (const existing of store.values()) {
      if (existing.id !== exceptId && sameValue(existing[field], value, field)) return { field, existing };
    }
  }
  return null;
}

function validate(module: string, rec: Record<string, unknown>, index: number, forInsert: boolean): Outcome | null {
  if (forInsert) {
    for (const field of MANDATORY[module] ?? []) {
      if (rec[field] === undefined || rec[field] === null || rec[field] === "") {
        return recordError("MANDATORY_NOT_FOUND", "required field not found", { api_name: field, json_path: `$.data[${index}].${field}` });
      }
    }
  }
  if (rec.Email !== undefined && rec.Email !== null && rec.Email !== "" && (typeof rec.Email !== "string" || !EMAIL.test(rec.Email))) {
    return recordError("INVALID_DATA", "invalid data", { api_name: "Email", json_path: `$.data[${index}].Email`, expected_data_type: "email" });
  }
  return null;
}

const stamp = () => zohoTime();

function insert(store: Map<string, Record_>, rec: Record<string, unknown>): Record_ {
  const id = zohoId();
  const now = stamp();
  const { id: _ignored, ...fields } = rec;
  const stored: Record_ = { ...fields, id, Created_Time: now, Modified_Time: now, Created_By: creator, Modified_By: creator };
  store.set(id, stored);
  return stored;
}

function update(existing: Record_, rec: Record<string, unknown>): Record_ {
  const { id: _ignored, ...fields } = rec;
  Object.assign(existing, fields, { Modified_Time: stamp(), Modified_By: creator });
  return existing;
}

function successDetails(r: Record_) {
  return { Modified_Time: r.Modified_Time, Modified_By: r.Modified_By, Created_Time: r.Created_Time, id: r.id, Created_By: r.Created_By };
}

/** 201/200 when every record succeeded, 207 when outcomes mix, 400 when all failed. */
function answer(c: Context, outcomes: Outcome[], okStatus: 200 | 201) {
  const ok = outcomes.filter((o) => o.status === "success").length;
  const status = ok === outcomes.length ? okStatus : ok === 0 ? 400 : 207;
  return c.json({ data: outcomes }, status);
}

async function readData(c: Context): Promise<{ data: Record<string, unknown>[]; body: Record<string, unknown> } | Response> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return zohoError(c, 400, "INVALID_DATA", "body is not valid JSON");
  }
  const data = (body as { data?: unknown })?.data;
  if (!Array.isArray(data) || data.length === 0) return zohoError(c, 400, "REQUIRED_PARAM_MISSING", "data is missing", { param: "data" });
  if (data.length > MAX_RECORDS) return zohoError(c, 400, "LIMIT_EXCEEDED", `at most ${MAX_RECORDS} records a call`, { limit: MAX_RECORDS });
  return { data: data as Record<string, unknown>[], body: body as Record<string, unknown> };
}

/**
 * What every record write starts with: the module and scope checked, the body's `data`
 * read, and the duplicate-check fields (the request's, else the module's system ones).
 */
async function writeRequest(c: Context, op: "CREATE" | "UPDATE") {
  const access = moduleAccess(c, op);
  if (access instanceof Response) return access;
  if (world.settings.crmWritesForbidden) {
    return zohoError(c, 403, "NO_PERMISSION", "permission denied", { permissions: [`Crm_Implied_${op === "CREATE" ? "Create" : "Edit"}_${access.module}`] });
  }
  const read = await readData(c);
  if (read instanceof Response) return read;
  const dupFields = (read.body.duplicate_check_fields as string[] | undefined) ?? SYSTEM_DUPLICATE_FIELDS[access.module] ?? [];
  return { ...access, data: read.data, dupFields };
}

// ---- organisation --------------------------------------------------------------------

crm.get("/crm/v8/org", (c) => {
  const auth = checkZohoToken(c, "ZohoCRM.org.READ");
  if (auth.error) return auth.error;
  const o = org(c)!;
  return c.json({ org: [{ id: o.id, company_name: o.companyName, domain_name: `org${o.id}`, primary_email: "admin@acme.example", zgid: o.id, time_zone: "UTC" }] });
});

// ---- metadata (what Zoho's SDKs ask before record calls) -----------------------------

crm.get("/crm/v8/settings/modules", (c) => {
  const auth = checkZohoToken(c, "ZohoCRM.settings.modules.READ");
  if (auth.error) return auth.error;
  return c.json({ modules: MODULES });
});

crm.get("/crm/v8/settings/fields", (c) => {
  const auth = checkZohoToken(c, "ZohoCRM.settings.fields.READ");
  if (auth.error) return auth.error;
  const module = c.req.query("module");
  if (!module) return zohoError(c, 400, "REQUIRED_PARAM_MISSING", "module is missing", { param: "module" });
  const fields = fieldsOf(module);
  if (!fields) return zohoError(c, 400, "INVALID_MODULE", "the module name given seems to be invalid", { param: "module" });
  return c.json({ fields });
});

// ---- users ---------------------------------------------------------------------------

/** The user the token belongs to: the org's user with its e-mail, else the org's administrator. */
function currentUser(c: Context, account: string): Record_ {
  const found = [...org(c)!.users.values()].find((u) => String(u.email).toLowerCase() === account.toLowerCase());
  if (found) return found;
  return {
    id: creator.id,
    first_name: "Emulator",
    last_name: "Admin",
    full_name: creator.name,
    email: account,
    role: { name: "CEO", id: "5725767000000026005" },
    profile: { name: "Administrator", id: "5725767000000026011" },
    status: "active",
    confirm: true,
    zuid: "30000999",
    created_time: zohoTime(0),
    Modified_Time: zohoTime(0),
  };
}

crm.get("/crm/v8/users", (c) => {
  const auth = checkZohoToken(c, "ZohoCRM.users.READ");
  if (auth.error) return auth.error;
  const type = c.req.query("type") ?? "AllUsers";
  if (type === "CurrentUser") {
    return c.json({ users: [currentUser(c, auth.token.account)], info: { per_page: 200, count: 1, page: 1, more_records: false } });
  }
  const filter = USER_TYPES[type];
  if (!filter) return zohoError(c, 400, "INVALID_DATA", "invalid type", { param: "type" });
  const { page, perPage } = paging(c);
  const all = [...org(c)!.users.values()].filter(filter);
  const slice = all.slice((page - 1) * perPage, page * perPage);
  if (!slice.length) return c.body(null, 204);
  return c.json({ users: slice, info: { per_page: perPage, count: slice.length, page, more_records: page * perPage < all.length } });
});

crm.get("/crm/v8/users/:id", (c) => {
  const auth = checkZohoToken(c, "ZohoCRM.users.READ");
  if (auth.error) return auth.error;
  const user = org(c)!.users.get(c.req.param("id"));
  if (!user) return c.body(null, 204);
  return c.json({ users: [user] });
});

crm.post("/crm/v8/users", async (c) => {
  const auth = checkZohoToken(c, "ZohoCRM.users.CREATE");
  if (auth.error) return auth.error;
  const users = ((await c.req.json().catch(() => ({}))) as { users?: Record<string, unknown>[] }).users;
  if (!Array.isArray(users) || users.length === 0) return zohoError(c, 400, "REQUIRED_PARAM_MISSING", "users is missing", { param: "users" });
  // One user per request (add-user.html).
  if (users.length > 1) return zohoError(c, 400, "LIMIT_EXCEEDED", "only one user can be added per request", { limit: 1 });
  const u = users[0]!;
  for (const field of ["first_name", "email", "role", "profile"]) {
    if (!u[field]) return c.json({ users: [recordError("MANDATORY_NOT_FOUND", "required field not found", { api_name: field })] }, 400);
  }
  const store = org(c)!.users;
  const email = String(u.email);
  if ([...store.values()].some((x) => String(x.email).toLowerCase() === email.toLowerCase() && x.status !== "deleted")) {
    return c.json({ users: [recordError("DUPLICATE_DATA", "duplicate data", { api_name: "email" })] }, 400);
  }
  const id = zohoId();
  const now = stamp();
  store.set(id, {
    ...u,
    id,
    full_name: `${u.first_name ?? ""} ${u.last_name ?? ""}`.trim(),
    status: "active",
    confirm: false,
    zuid: String(90000000 + store.size),
    created_time: now,
    Modified_Time: now,
  });
  return c.json({ users: [{ code: "SUCCESS", details: { id }, message: "User added", status: "success" }] }, 201);
});

crm.put("/crm/v8/users/:id?", async (c) => {
  const auth = checkZohoToken(c, "ZohoCRM.users.UPDATE");
  if (auth.error) return auth.error;
  const users = ((await c.req.json().catch(() => ({}))) as { users?: Record<string, unknown>[] }).users;
  if (!Array.isArray(users) || users.length !== 1) return zohoError(c, 400, "INVALID_DATA", "one user per request", { param: "users" });
  const u = users[0]!;
  const id = c.req.param("id") ?? String(u.id ?? "");
  const existing = org(c)!.users.get(id);
  if (!existing || existing.status === "deleted") return c.json({ users: [recordError("INVALID_DATA", "the id given seems to be invalid", { api_name: "id" })] }, 400);
  if (u.status !== undefined && u.status !== "active" && u.status !== "inactive") {
    return c.json({ users: [recordError("INVALID_DATA", "only active and inactive can be set", { api_name: "status" })] }, 400);
  }
  if (u.status === "inactive" && existing.status === "inactive") {
    return c.json({ users: [recordError("ID_ALREADY_DEACTIVATED", "the user is already deactivated", { id })] }, 400);
  }
  const { id: _ignored, ...fields } = u;
  Object.assign(existing, fields, { Modified_Time: stamp() });
  return c.json({ users: [{ code: "SUCCESS", details: { id }, message: "User updated", status: "success" }] });
});

crm.delete("/crm/v8/users/:id", (c) => {
  const auth = checkZohoToken(c, "ZohoCRM.users.DELETE");
  if (auth.error) return auth.error;
  const id = c.req.param("id");
  const existing = org(c)!.users.get(id);
  if (!existing || existing.status === "deleted") return c.json({ users: [recordError("INVALID_DATA", "the id given seems to be invalid", { api_name: "id" })] }, 400);
  existing.status = "deleted";
  return c.json({ users: [{ code: "SUCCESS", details: { id }, message: "User deleted", status: "success" }] });
});

// ---- COQL ------------------------------------------------------------------------------

crm.post("/crm/v8/coql", async (c) => {
  const auth = checkZohoToken(c, "ZohoCRM.coql.READ");
  if (auth.error) return auth.error;
  const query = ((await c.req.json().catch(() => ({}))) as { select_query?: unknown }).select_query;
  if (typeof query !== "string") return zohoError(c, 400, "REQUIRED_PARAM_MISSING", "select_query is missing", { param: "select_query" });
  const result = runCoql(query, (module) => org(c)!.modules.get(module) ?? null);
  if ("error" in result) return zohoError(c, 400, result.error.code, result.error.message, result.error.details);
  if (!auth.token.scopes.some((s) => /^zohocrm\.modules\./i.test(s))) {
    return zohoError(c, 401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL");
  }
  if (!result.rows.length) return c.body(null, 204);
  return c.json({ data: result.rows, info: { count: result.rows.length, more_records: result.more } });
});

// ---- records -------------------------------------------------------------------------

function paging(c: Context) {
  const page = Math.max(1, Number(c.req.query("page") ?? 1) || 1);
  const perPage = Math.min(MAX_PER_PAGE, Math.max(1, Number(c.req.query("per_page") ?? MAX_PER_PAGE) || MAX_PER_PAGE));
  return { page, perPage };
}

function pick(r: Record_, fields: string | undefined): Record_ {
  if (!fields) return r;
  const out: Record_ = { id: r.id };
  for (const f of fields.split(",")) if (f in r) out[f] = r[f];
  return out;
}

crm.get("/crm/v8/:module/search", (c) => {
  const access = moduleAccess(c, "READ");
  if (access instanceof Response) return access;
  const { store } = access;
  const conditions = searchConditions(c);
  if (!conditions) return zohoError(c, 400, "REQUIRED_PARAM_MISSING", "one of criteria, email, phone or word is required", { param: "criteria" });
  const matches = [...store.values()].filter((r) => conditions.some(([field, value]) => typeof r[field] === "string" && (r[field] as string).toLowerCase() === value.toLowerCase()));
  const { page, perPage } = paging(c);
  const slice = matches.slice((page - 1) * perPage, page * perPage);
  // 204 No Content when nothing matches.
  if (!slice.length) return c.body(null, 204);
  return c.json({ data: slice, info: { per_page: perPage, count: slice.length, page, more_records: page * perPage < matches.length } });
});

/** `email=…`, or `criteria=((Email:equals:x)or(Email:equals:y))`: the pairs to match. */
function searchConditions(c: Context): [string, string][] | null {
  const email = c.req.query("email");
  if (email) return [["Email", email]];
  const criteria = c.req.query("criteria");
  if (!criteria) return null;
  const out: [string, string][] = [];
  for (const m of criteria.matchAll(/\(([A-Za-z_0-9]+):equals:([^()]*)\)/g)) out.push([m[1]!, m[2]!]);
  return out.length ? out : null;
}

crm.get("/crm/v8/:module/:id", (c) => {
  const access = moduleAccess(c, "READ");
  if (access instanceof Response) return access;
  const { store } = access;
  const rec = store.get(c.req.param("id"));
  if (!rec) return c.body(null, 204);
  return c.json({ data: [rec] });
});

crm.get("/crm/v8/:module", (c) => {
  const access = moduleAccess(c, "READ");
  if (access instanceof Response) return access;
  const { store } = access;
  const { page, perPage } = paging(c);
  const all = [...store.values()];
  const slice = all.slice((page - 1) * perPage, page * perPage).map((r) => pick(r, c.req.query("fields")));
  if (!slice.length) return c.body(null, 204);
  return c.json({ data: slice, info: { per_page: perPage, count: slice.length, page, more_records: page * perPage < all.length } });
});

crm.post("/crm/v8/:module", async (c) => {
  const req = await writeRequest(c, "CREATE");
  if (req instanceof Response) return req;
  const { module, store, dupFields } = req;
  const outcomes = req.data.map((rec, i): Outcome => {
    const invalid = validate(module, rec, i, true);
    if (invalid) return invalid;
    const dup = findDuplicate(store, rec, dupFields);
    if (dup) {
      return recordError("DUPLICATE_DATA", "duplicate data", {
        api_name: dup.field,
        json_path: `$.data[${i}].${dup.field}`,
        duplicate_record: { id: dup.existing.id, module: { api_name: module, id: "5725767000000002175" }, Owner: creator },
      });
    }
    return { code: "SUCCESS", details: successDetails(insert(store, rec)), message: "record added", status: "success" };
  });
  return answer(c, outcomes, 201);
});

crm.post("/crm/v8/:module/upsert", async (c) => {
  const req = await writeRequest(c, "CREATE");
  if (req instanceof Response) return req;
  const { module, store, dupFields } = req;
  const outcomes = req.data.map((rec, i): Outcome => {
    const dup = findDuplicate(store, rec, dupFields);
    const invalid = validate(module, rec, i, !dup);
    if (invalid) return invalid;
    if (dup) {
      const r = update(dup.existing, rec);
      return { code: "SUCCESS", duplicate_field: dup.field, action: "update", details: successDetails(r), message: "record updated", status: "success" };
    }
    return { code: "SUCCESS", duplicate_field: null, action: "insert", details: successDetails(insert(store, rec)), message: "record added", status: "success" };
  });
  return answer(c, outcomes, 201);
});

crm.put("/crm/v8/:module/:id?", async (c) => {
  const req = await writeRequest(c, "UPDATE");
  if (req instanceof Response) return req;
  const { module, store } = req;
  const pathId = c.req.param("id");
  const outcomes = req.data.map((rec, i): Outcome => {
    const id = pathId ?? (typeof rec.id === "string" ? rec.id : "");
    const existing = store.get(id);
    if (!existing) return recordError("INVALID_DATA", "the id given seems to be invalid", { api_name: "id", json_path: `$.data[${i}].id` });
    const invalid = validate(module, rec, i, false);
    if (invalid) return invalid;
    const dup = findDuplicate(store, rec, SYSTEM_DUPLICATE_FIELDS[module] ?? [], id);
    if (dup) {
      return recordError("DUPLICATE_DATA", "duplicate data", { api_name: dup.field, json_path: `$.data[${i}].${dup.field}`, duplicate_record: { id: dup.existing.id } });
    }
    return { code: "SUCCESS", details: successDetails(update(existing, rec)), message: "record updated", status: "success" };
  });
  return answer(c, outcomes, 200);
});

crm.delete("/crm/v8/:module/:id?", (c) => {
  const access = moduleAccess(c, "DELETE");
  if (access instanceof Response) return access;
  const { store } = access;
  const ids = c.req.param("id") ? [c.req.param("id")!] : (c.req.query("ids") ?? "").split(",").filter(Boolean);
  if (!ids.length) return zohoError(c, 400, "REQUIRED_PARAM_MISSING", "ids is missing", { param: "ids" });
  if (ids.length > MAX_RECORDS) return zohoError(c, 400, "LIMIT_EXCEEDED", `at most ${MAX_RECORDS} ids a call`, { limit: MAX_RECORDS });
  const outcomes = ids.map((id): Outcome => {
    if (!store.delete(id)) return recordError("INVALID_DATA", "the id given seems to be invalid", { id });
    return { code: "SUCCESS", details: { id }, message: "record deleted", status: "success" };
  });
  return answer(c, outcomes, 200);
});
