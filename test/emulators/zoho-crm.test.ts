import { beforeEach, describe, expect, it } from "vitest";
import { CRM_SCOPES, emu, freshCrmSession, zoho, zohoTokens } from "./helpers";

let api: string;
let token: string;

beforeEach(async () => {
  ({ api, token } = await freshCrmSession());
});

const call = (path: string, init: RequestInit & { json?: unknown } = {}) => zoho(api, token, path, init);
type Data = { data: { code: string; status: string; message: string; action?: string; duplicate_field?: string | null; details: Record<string, any> }[] };

describe("Zoho CRM emulator: authentication", () => {
  it("401 INVALID_TOKEN for an unknown token, AUTHENTICATION_FAILURE without the header", async () => {
    const unknown = await zoho(api, "1000.nope", "/crm/v8/Contacts?page=1");
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual({ code: "INVALID_TOKEN", details: {}, message: "invalid oauth token", status: "error" });
    const none = await emu(`${api}/crm/v8/Contacts`);
    expect(((await none.json()) as { code: string }).code).toBe("AUTHENTICATION_FAILURE");
  });

  it("401 OAUTH_SCOPE_MISMATCH for a token without the scope", async () => {
    const narrow = await zohoTokens("us", "admin@acme.example", ["ZohoCRM.modules.contacts.READ"]);
    expect((await zoho(narrow.api_domain, narrow.access_token, "/crm/v8/Contacts")).status).toBe(200);
    const write = await zoho(narrow.api_domain, narrow.access_token, "/crm/v8/Contacts", { method: "POST", json: { data: [{ Last_Name: "X" }] } });
    expect(write.status).toBe(401);
    expect(((await write.json()) as { code: string }).code).toBe("OAUTH_SCOPE_MISMATCH");
    expect((await zoho(narrow.api_domain, narrow.access_token, "/crm/v8/users")).status).toBe(401);
  });

  it("a US token is not valid at the EU API domain", async () => {
    const res = await zoho(api.replace("/zoho/us/", "/zoho/eu/"), token, "/crm/v8/org");
    expect(res.status).toBe(401);
  });
});

describe("Zoho CRM emulator: records", () => {
  it("insert: 201 with per-record results; a missing Last_Name is MANDATORY_NOT_FOUND; mixed is 207 in input order", async () => {
    const ok = await call("/crm/v8/Contacts", { method: "POST", json: { data: [{ Last_Name: "Lovelace", First_Name: "Ada", Email: "ada@hub.example" }] } });
    expect(ok.status).toBe(201);
    const okBody = (await ok.json()) as Data;
    expect(okBody.data[0]).toMatchObject({ code: "SUCCESS", message: "record added", status: "success" });
    expect(okBody.data[0]!.details.id).toMatch(/^\d{19}$/);

    const mixed = await call("/crm/v8/Contacts", {
      method: "POST",
      json: { data: [{ First_Name: "No last name" }, { Last_Name: "Hopper", Email: "grace@hub.example" }, { Last_Name: "Bad", Email: "not-an-email" }] },
    });
    expect(mixed.status).toBe(207);
    const { data } = (await mixed.json()) as Data;
    expect(data.map((d) => d.code)).toEqual(["MANDATORY_NOT_FOUND", "SUCCESS", "INVALID_DATA"]);
    expect(data[0]!.details).toEqual({ api_name: "Last_Name", json_path: "$.data[0].Last_Name" });
    expect(data[2]!.details).toMatchObject({ api_name: "Email", expected_data_type: "email" });

    const allBad = await call("/crm/v8/Contacts", { method: "POST", json: { data: [{ Email: "x@y.example" }] } });
    expect(allBad.status).toBe(400);
  });

  it("insert of an existing e-mail is DUPLICATE_DATA naming the existing record", async () => {
    const first = (await (await call("/crm/v8/Contacts", { method: "POST", json: { data: [{ Last_Name: "A", Email: "dup@hub.example" }] } })).json()) as Data;
    const dup = await call("/crm/v8/Contacts", { method: "POST", json: { data: [{ Last_Name: "B", Email: "dup@hub.example" }] } });
    const body = (await dup.json()) as Data;
    expect(body.data[0]!.code).toBe("DUPLICATE_DATA");
    expect(body.data[0]!.details.duplicate_record.id).toBe(first.data[0]!.details.id);
  });

  it("more than 100 records is refused", async () => {
    const data = Array.from({ length: 101 }, (_, i) => ({ Last_Name: `P${i}` }));
    const res = await call("/crm/v8/Contacts", { method: "POST", json: { data } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("LIMIT_EXCEEDED");
  });

  it("upsert with duplicate_check_fields inserts, then updates the same record", async () => {
    const body = (rec: Record<string, unknown>) => ({ data: [rec], duplicate_check_fields: ["Email"], trigger: [] });
    const inserted = (await (await call("/crm/v8/Contacts/upsert", { method: "POST", json: body({ Last_Name: "Turing", Email: "alan@hub.example" }) })).json()) as Data;
    expect(inserted.data[0]).toMatchObject({ action: "insert", duplicate_field: null, message: "record added" });
    const updated = (await (await call("/crm/v8/Contacts/upsert", { method: "POST", json: body({ Last_Name: "Turing", Department: "Bletchley", Email: "alan@hub.example" }) })).json()) as Data;
    expect(updated.data[0]).toMatchObject({ action: "update", duplicate_field: "Email", message: "record updated" });
    expect(updated.data[0]!.details.id).toBe(inserted.data[0]!.details.id);
    const all = (await (await emu("/_emulator/zoho/us/crm/Contacts?email=alan@hub.example")).json()) as { count: number; records: { Department: string }[] };
    expect(all.count).toBe(1);
    expect(all.records[0]!.Department).toBe("Bletchley");
  });

  it("update by id (body or path); an unknown id is INVALID_DATA", async () => {
    const created = (await (await call("/crm/v8/Leads", { method: "POST", json: { data: [{ Last_Name: "Knuth", Company: "Stanford" }] } })).json()) as Data;
    const id = created.data[0]!.details.id;
    const res = await call("/crm/v8/Leads", { method: "PUT", json: { data: [{ id, Company: "TAOCP" }, { id: "999", Company: "x" }] } });
    expect(res.status).toBe(207);
    const { data } = (await res.json()) as Data;
    expect(data.map((d) => d.code)).toEqual(["SUCCESS", "INVALID_DATA"]);
    const byPath = await call(`/crm/v8/Leads/${id}`, { method: "PUT", json: { data: [{ Company: "Again" }] } });
    expect(byPath.status).toBe(200);
    const got = (await (await call(`/crm/v8/Leads/${id}`)).json()) as { data: { Company: string }[] };
    expect(got.data[0]!.Company).toBe("Again");
  });

  it("search by e-mail answers matches, or 204 when nothing matches", async () => {
    await call("/crm/v8/Contacts", { method: "POST", json: { data: [{ Last_Name: "Shannon", Email: "claude@hub.example" }] } });
    const found = await call("/crm/v8/Contacts/search?email=claude@hub.example");
    expect(found.status).toBe(200);
    expect(((await found.json()) as { data: { Last_Name: string }[] }).data[0]!.Last_Name).toBe("Shannon");
    const criteria = await call(`/crm/v8/Contacts/search?criteria=${encodeURIComponent("((Email:equals:claude@hub.example))")}`);
    expect(criteria.status).toBe(200);
    expect((await call("/crm/v8/Contacts/search?email=nobody@hub.example")).status).toBe(204);
  });

  it("COQL selects by e-mail (in a list) and pages with limit offset, count", async () => {
    const q = (select_query: string) => call("/crm/v8/coql", { method: "POST", json: { select_query } });
    await call("/crm/v8/Contacts", { method: "POST", json: { data: [{ Last_Name: "A", Email: "a@hub.example" }, { Last_Name: "B", Email: "b@hub.example" }] } });
    const byIn = (await (await q("select id, Email, Last_Name from Contacts where Email in ('a@hub.example', 'b@hub.example', 'c@hub.example')")).json()) as { data: { Email: string }[]; info: { count: number; more_records: boolean } };
    expect(byIn.data.map((r) => r.Email).sort()).toEqual(["a@hub.example", "b@hub.example"]);
    // Since v7 `in` takes up to 100 values (50 before); two lists joined by `or` look up more in one call.
    const hundred = Array.from({ length: 99 }, (_, i) => `'x${i}@hub.example'`).join(", ");
    expect((await q(`select id, Email from Contacts where (Email in (${hundred}, 'a@hub.example', 'z@hub.example')) or (Email in ('b@hub.example'))`)).status).toBe(400);
    const twoLists = (await (await q(`select id, Email from Contacts where (Email in (${hundred}, 'a@hub.example')) or (Email in ('b@hub.example'))`)).json()) as { data: { Email: string }[] };
    expect(twoLists.data.map((r) => r.Email).sort()).toEqual(["a@hub.example", "b@hub.example"]);
    const first = (await (await q("select id, Email from Contacts limit 0, 200")).json()) as { data: { id: string }[]; info: { count: number; more_records: boolean } };
    expect(first.info).toEqual({ count: 200, more_records: true });
    const second = (await (await q("select id, Email from Contacts limit 200, 200")).json()) as { data: { id: string }[]; info: { more_records: boolean } };
    expect(second.data).toHaveLength(102);
    expect(second.info.more_records).toBe(false);
    expect(new Set([...first.data, ...second.data].map((r) => r.id)).size).toBe(302);
    expect((await q("select id from Contacts where Email = 'none@hub.example'")).status).toBe(204);
    const bad = await q("selekt nothing");
    expect(bad.status).toBe(400);
    expect((await q("select id from Contacts limit 2001")).status).toBe(400);
  });

  it("COQL as Zoho documents it: like, limit n offset m, datetime comparisons, COUNT(id), unknown columns, 500 fields", async () => {
    const q = async (select_query: string) => {
      const res = await call("/crm/v8/coql", { method: "POST", json: { select_query } });
      return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as { data: Record<string, unknown>[]; code?: string; details?: Record<string, unknown> }) };
    };
    await call("/crm/v8/Contacts", { method: "POST", json: { data: [{ Last_Name: "Like", Email: "like.one@coql.example" }, { Last_Name: "Like", Email: "like.two@coql.example" }] } });
    const like = await q("select Email from Contacts where Email like '%@coql.example' order by Email");
    expect(like.body!.data.map((r) => r.Email)).toEqual(["like.one@coql.example", "like.two@coql.example"]);
    expect((await q("select Email from Contacts where Email like 'like.t%'")).body!.data.map((r) => r.Email)).toEqual(["like.two@coql.example"]);
    const notLike = await q("select id from Contacts where Email not like '%@coql.example' limit 2000");
    expect(notLike.body!.data).toHaveLength(300);

    const page = await q("select id from Contacts limit 5 offset 300");
    expect(page.body!.data).toHaveLength(2);

    // Timestamps are ISO 8601 with an offset and no fraction, and compare as datetimes.
    const [rec] = (await q("select Created_Time from Contacts where Email = 'like.one@coql.example'")).body!.data;
    expect(rec!.Created_Time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
    const seeded = (await q("select Created_Time from Contacts limit 1")).body!.data[0]!;
    expect(seeded.Created_Time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
    const since = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, "+00:00");
    const recent = await q(`select Email from Contacts where Created_Time >= '${since}' and Email like '%@coql.example'`);
    expect(recent.body!.data).toHaveLength(2);
    expect((await q(`select Email from Contacts where Created_Time < '2000-01-01T00:00:00+00:00'`)).status).toBe(204);

    expect((await q("select COUNT(id) from Contacts")).body!.data).toEqual([{ "COUNT(id)": 302 }]);
    expect((await q("select COUNT(id) from Contacts where Email like '%@coql.example'")).body!.data).toEqual([{ "COUNT(id)": 2 }]);

    const unknown = await q("select Nonsense_Field from Contacts");
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: "INVALID_QUERY", details: { column_name: "Nonsense_Field" } });
    expect((await q("select id from Contacts where Nonsense_Field = 'x'")).body).toMatchObject({ code: "INVALID_QUERY", details: { column_name: "Nonsense_Field" } });

    const many = Array.from({ length: 499 }, () => "Email").join(", ");
    expect((await q(`select id, ${many} from Contacts limit 1`)).status).toBe(200);
    expect((await q(`select id, ${many}, Last_Name from Contacts limit 1`)).status).toBe(400);
  });

  it("answers the metadata Zoho's SDKs read first: modules, fields and the current user", async () => {
    expect((await call("/crm/v8/settings/modules")).status).toBe(401);
    const settings = await zohoTokens("us", "admin@acme.example", [...CRM_SCOPES, "ZohoCRM.settings.ALL"]);
    const meta = (path: string) => zoho(settings.api_domain, settings.access_token, path);
    const modules = (await (await meta("/crm/v8/settings/modules")).json()) as { modules: { api_name: string; api_supported: boolean }[] };
    expect(modules.modules.map((m) => m.api_name)).toEqual(expect.arrayContaining(["Contacts", "Leads", "Accounts", "Events"]));
    const fields = (await (await meta("/crm/v8/settings/fields?module=Contacts")).json()) as { fields: { api_name: string; data_type: string; system_mandatory: boolean }[] };
    expect(fields.fields.find((f) => f.api_name === "Email")).toMatchObject({ data_type: "email", system_mandatory: false });
    expect(fields.fields.find((f) => f.api_name === "Last_Name")).toMatchObject({ data_type: "text", system_mandatory: true });
    expect((await meta("/crm/v8/settings/fields?module=Nope")).status).toBe(400);
    const me = (await (await call("/crm/v8/users?type=CurrentUser")).json()) as { users: { email: string; profile: { name: string } }[] };
    expect(me.users).toEqual([expect.objectContaining({ email: "admin@acme.example", profile: expect.objectContaining({ name: "Administrator" }) })]);
  });

  it("lists with paging and gets and deletes by id", async () => {
    const page1 = (await (await call("/crm/v8/Contacts?page=1&per_page=200&fields=Email,Last_Name")).json()) as { data: Record<string, unknown>[]; info: { more_records: boolean; count: number } };
    expect(page1.info).toMatchObject({ count: 200, more_records: true });
    expect(Object.keys(page1.data[0]!).sort()).toEqual(["Email", "Last_Name", "id"]);
    const page2 = (await (await call("/crm/v8/Contacts?page=2&per_page=200")).json()) as { info: { more_records: boolean; count: number } };
    expect(page2.info).toMatchObject({ count: 100, more_records: false });
    const id = String(page1.data[0]!.id);
    expect((await call(`/crm/v8/Contacts/${id}`)).status).toBe(200);
    const del = await call(`/crm/v8/Contacts?ids=${id}`, { method: "DELETE" });
    expect(((await del.json()) as Data).data[0]).toMatchObject({ code: "SUCCESS", details: { id } });
    expect((await call(`/crm/v8/Contacts/${id}`)).status).toBe(204);
  });

  it("Events need a title, start and end", async () => {
    const res = await call("/crm/v8/Events", { method: "POST", json: { data: [{ Event_Title: "Sync", Start_DateTime: "2026-11-22T10:00:00+00:00" }] } });
    expect(((await res.json()) as Data).data[0]!.details.api_name).toBe("End_DateTime");
    const ok = await call("/crm/v8/Events", {
      method: "POST",
      json: { data: [{ Event_Title: "Sync", Start_DateTime: "2026-11-22T10:00:00+00:00", End_DateTime: "2026-11-22T11:00:00+00:00", Participants: [{ type: "email", participant: "ada@hub.example" }] }] },
    });
    expect(ok.status).toBe(201);
  });

  it("an unknown module is INVALID_MODULE", async () => {
    const res = await call("/crm/v8/Spaceships?page=1");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("INVALID_MODULE");
  });

  it("the seed holds contacts whose e-mails differ only in case", async () => {
    const { records } = (await (await emu("/_emulator/zoho/us/crm/Contacts")).json()) as { records: { Email: string }[] };
    const emails = records.map((r) => r.Email);
    expect(emails.length).toBeGreaterThanOrEqual(300);
    const lower = emails.map((e) => e.toLowerCase());
    const caseTwins = lower.filter((e, i) => lower.indexOf(e) !== i);
    expect(caseTwins.length).toBeGreaterThan(5);
    for (const twin of caseTwins) expect(new Set(emails.filter((e) => e.toLowerCase() === twin)).size).toBe(2);
  });
});

describe("Zoho CRM emulator: users and org", () => {
  it("lists users by type with paging", async () => {
    const page = (await (await call("/crm/v8/users?type=AllUsers&page=1&per_page=50")).json()) as { users: { email: string; status: string; role: { name: string } }[]; info: { more_records: boolean } };
    expect(page.users).toHaveLength(50);
    expect(page.info.more_records).toBe(true);
    expect(page.users[0]).toMatchObject({ status: "active", role: { name: "CEO" } });
    expect((await call("/crm/v8/users?type=DeactiveUsers")).status).toBe(204);
  });

  it("adds one user per request (role and profile required), refuses a duplicate e-mail, updates and deactivates", async () => {
    const user = { first_name: "Radia", last_name: "Perlman", email: "radia@hub.example", role: { name: "Manager", id: "1" }, profile: { name: "Standard", id: "2" } };
    const added = await call("/crm/v8/users", { method: "POST", json: { users: [user] } });
    expect(added.status).toBe(201);
    const id = ((await added.json()) as { users: { details: { id: string }; message: string }[] }).users[0]!.details.id;
    const dup = await call("/crm/v8/users", { method: "POST", json: { users: [{ ...user, email: "RADIA@hub.example" }] } });
    expect(((await dup.json()) as { users: { code: string }[] }).users[0]!.code).toBe("DUPLICATE_DATA");
    const noRole = await call("/crm/v8/users", { method: "POST", json: { users: [{ ...user, email: "x@hub.example", role: undefined }] } });
    expect(((await noRole.json()) as { users: { code: string; details: { api_name: string } }[] }).users[0]).toMatchObject({ code: "MANDATORY_NOT_FOUND", details: { api_name: "role" } });
    const two = await call("/crm/v8/users", { method: "POST", json: { users: [user, user] } });
    expect(two.status).toBe(400);

    expect((await call(`/crm/v8/users/${id}`, { method: "PUT", json: { users: [{ last_name: "Perlman-Sun" }] } })).status).toBe(200);
    expect((await call(`/crm/v8/users/${id}`, { method: "PUT", json: { users: [{ status: "inactive" }] } })).status).toBe(200);
    const again = await call(`/crm/v8/users/${id}`, { method: "PUT", json: { users: [{ status: "inactive" }] } });
    expect(((await again.json()) as { users: { code: string }[] }).users[0]!.code).toBe("ID_ALREADY_DEACTIVATED");
    const inactive = (await (await call("/crm/v8/users?type=DeactiveUsers")).json()) as { users: { id: string; last_name: string }[] };
    expect(inactive.users).toEqual([expect.objectContaining({ id, last_name: "Perlman-Sun" })]);
  });

  it("GET /org answers the organisation", async () => {
    const res = await call("/crm/v8/org");
    expect(((await res.json()) as { org: { id: string }[] }).org[0]!.id).toBe("700000001");
  });
});

