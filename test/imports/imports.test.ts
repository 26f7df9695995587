import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { suggestMapping } from "../../src/directory/csv";
import { handleImportPage } from "../../src/runs/import";
import { call, createTenant, eventually, type TestTenant } from "../helpers";
import { connectedCrm, contacts } from "../sync/helpers";

async function upload(t: TestTenant, body: BodyInit, contentType = "text/csv; charset=utf-8") {
  return call("/v1/imports", { method: "POST", headers: { "content-type": contentType }, body, token: t.apiKey });
}

async function uploaded(t: TestTenant, text: string) {
  const res = await upload(t, text);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; rows: number; headers: string[]; suggestedMapping: Record<string, string | null> };
}

async function preview(t: TestTenant, id: string, body: Record<string, unknown>) {
  return call(`/v1/imports/${id}/preview`, { method: "POST", json: body, token: t.apiKey });
}

type Preview = { create: number; update: number; disable: number; unchanged: number; errors: { row: number; column: string | null; message: string }[]; sample: { row: number; action: string; user: Record<string, unknown> }[] };

async function putUser(t: TestTenant, user: Record<string, unknown>) {
  const res = await call(`/v1/directory/users/${encodeURIComponent(String(user.id))}`, { method: "PUT", json: user, token: t.apiKey });
  expect(res.status).toBeLessThan(300);
}

/** What the bucket and the table hold for a tenant's uploads: nothing after a refusal. */
async function leftBehind(t: TestTenant) {
  const objects = await env.FILES.list({ prefix: `uploads/${t.id}/` });
  const rows = await env.DB.prepare("SELECT count(*) AS n FROM imports WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
  return { objects: objects.objects.length, rows: rows!.n };
}

describe("CSV upload", () => {
  it("suggests a mapping for realistic header sets, ignoring case, spaces and punctuation", () => {
    expect(suggestMapping(["E-mail", "First Name", "Surname", "Department", "Job Title", "Mobile Phone", "Status", "Cost Centre"])).toEqual({
      "E-mail": "email",
      "First Name": "firstName",
      Surname: "lastName",
      Department: "department",
      "Job Title": "designation",
      "Mobile Phone": "mobile",
      Status: "status",
      "Cost Centre": "attributes.Cost_Centre",
    });
    // Active Directory's export, and an HR system's.
    expect(suggestMapping(["sAMAccountName", "givenName", "sn", "mail", "title", "department", "manager"])).toMatchObject({ givenName: "firstName", mail: "email", title: "designation", department: "department", manager: "reportingTo", sAMAccountName: "attributes.sAMAccountName" });
    expect(suggestMapping(["Employee ID", "Email Address", "Last name", "Date of Birth", "Work Location", "email"])).toEqual({
      "Employee ID": "id",
      "Email Address": "email",
      "Last name": "lastName",
      "Date of Birth": "dateOfBirth",
      "Work Location": "workLocation",
      // A second column naming a field already taken goes to attributes.
      email: "attributes.email",
    });
  });

  it("answers rows, headers and the suggestion; a header-only file has no rows", async () => {
    const t = await createTenant();
    const imp = await uploaded(t, "Email,First Name,Surname\nada@x.example,Ada,Lovelace\ngrace@x.example,Grace,Hopper\n");
    expect(imp).toMatchObject({ rows: 2, headers: ["Email", "First Name", "Surname"], suggestedMapping: { Email: "email", "First Name": "firstName", Surname: "lastName" } });
    expect((await uploaded(t, "Email,Name\n")).rows).toBe(0);
    const got = await call(`/v1/imports/${imp.id}`, { token: t.apiKey });
    expect(await got.json()).toMatchObject({ id: imp.id, status: "uploaded", runId: null });
    const list = (await (await call("/v1/imports", { token: t.apiKey })).json()) as { data: { id: string }[] };
    expect(list.data.map((i) => i.id)).toContain(imp.id);
  });

  it("reads a semicolon-separated file with a BOM, quoted separators and quoted newlines", async () => {
    const t = await createTenant();
    const text = '\uFEFFE-Mail;Vorname;Nachname;Abteilung\r\n"ada@x.example";"Ada";"Lovelace; Countess";"Analytical\r\nEngines"\r\ngrace@x.example;Grace;Hopper;"Navy, Research"\r\n';
    const imp = await uploaded(t, text);
    expect(imp.headers).toEqual(["E-Mail", "Vorname", "Nachname", "Abteilung"]);
    expect(imp.rows).toBe(2);
    const res = await preview(t, imp.id, { mapping: { "E-Mail": "email", Vorname: "firstName", Nachname: "lastName", Abteilung: "department" } });
    const plan = (await res.json()) as Preview;
    expect(plan.errors).toEqual([]);
    expect(plan.sample.map((s) => s.user)).toEqual([
      { id: "ada@x.example", email: "ada@x.example", firstName: "Ada", lastName: "Lovelace; Countess", department: "Analytical\r\nEngines" },
      { id: "grace@x.example", email: "grace@x.example", firstName: "Grace", lastName: "Hopper", department: "Navy, Research" },
    ]);
  });

  it("refuses an oversized upload (413), a non-CSV one (415) and a binary or empty file (422), leaving nothing behind", async () => {
    const t = await createTenant();
    const chunk = new TextEncoder().encode(`${"x".repeat(1023)}\n`);
    let sent = 0;
    const huge = new ReadableStream<Uint8Array>({
      pull(controller) {
        // 50 MiB and one more chunk, without Content-Length.
        if (sent > 50 * 1024) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const big = await upload(t, huge);
    expect(big.status).toBe(413);
    expect((await upload(t, JSON.stringify({ email: "a@x.example" }), "application/json")).status).toBe(415);
    expect((await upload(t, new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08, 0x00]))).status).toBe(422);
    expect((await upload(t, "")).status).toBe(422);
    expect((await upload(t, "\uFEFF\r\n")).status).toBe(422);
    expect((await upload(t, 'Email\n"unclosed@x.example\n')).status).toBe(422);
    expect(await leftBehind(t)).toEqual({ objects: 0, rows: 0 });
  });
});

describe("CSV preview", () => {
  it("reports each kind of row error with its row and column, and plans the other rows", async () => {
    const t = await createTenant();
    const imp = await uploaded(
      t,
      [
        "Employee ID,Email,First Name,Status,Birthday",
        "e1,ada@x.example,Ada,active,1815-12-10",
        "e2,,Nobody,active,",
        "e3,not-an-email,Bad,active,",
        "e4,twin@x.example,One,active,",
        "e5,twin@x.example,Two,active,",
        "e6,Case@x.example,Upper,active,",
        "e7,case@x.example,Lower,active,",
        "e1,again@x.example,Again,active,",
        "e9,date@x.example,Date,active,1990-02-30",
        "e10,status@x.example,Status,retired,",
      ].join("\n"),
    );
    const res = await preview(t, imp.id, { mapping: { "Employee ID": "id", Email: "email", "First Name": "firstName", Status: "status", Birthday: "dateOfBirth" } });
    expect(res.status).toBe(200);
    const plan = (await res.json()) as Preview;
    expect(plan.errors).toEqual([
      { row: 1, column: "Employee ID", message: "The id e1 is on more than one row of the file." },
      { row: 2, column: "Email", message: "The e-mail is missing." },
      { row: 3, column: "Email", message: "not-an-email is not an e-mail address." },
      { row: 4, column: "Email", message: "The e-mail twin@x.example is on more than one row of the file." },
      { row: 5, column: "Email", message: "The e-mail twin@x.example is on more than one row of the file." },
      { row: 6, column: "Email", message: expect.stringContaining("differs only in case") },
      { row: 7, column: "Email", message: expect.stringContaining("differs only in case") },
      { row: 8, column: "Employee ID", message: "The id e1 is on more than one row of the file." },
      { row: 9, column: "Birthday", message: "1990-02-30: expected a calendar date as YYYY-MM-DD." },
      { row: 10, column: "Status", message: "Unknown status value retired: use active or disabled." },
    ]);
    expect(plan).toMatchObject({ create: 0, update: 0, disable: 0, unchanged: 0 });
  });

  it("counts create, update, disable and unchanged against the directory, and changes nothing", async () => {
    const t = await createTenant();
    await putUser(t, { id: "same@x.example", email: "same@x.example", firstName: "Same" });
    await putUser(t, { id: "moved@x.example", email: "moved@x.example", firstName: "Moved", department: "Old" });
    await putUser(t, { id: "leaver@x.example", email: "leaver@x.example", firstName: "Leaver" });
    const imp = await uploaded(
      t,
      ["Email,First Name,Department,Status", "same@x.example,Same,,active", "moved@x.example,Moved,New,", "leaver@x.example,Leaver,,disabled", "new@x.example,New,Sales,"].join("\n"),
    );
    const before = await env.DB.prepare("SELECT id, version, status FROM directory_users WHERE tenant_id = ? ORDER BY id").bind(t.id).all();
    const res = await preview(t, imp.id, { mapping: { Email: "email", "First Name": "firstName", Department: "department", Status: "status" }, maxDisablePercent: 50 });
    const plan = (await res.json()) as Preview;
    expect(plan).toMatchObject({ create: 1, update: 1, disable: 1, unchanged: 1, errors: [] });
    expect(plan.sample).toEqual([
      { row: 2, action: "update", user: { id: "moved@x.example", email: "moved@x.example", firstName: "Moved", department: "New" } },
      { row: 3, action: "disable", user: { id: "leaver@x.example", email: "leaver@x.example", firstName: "Leaver", status: "disabled" } },
      { row: 4, action: "create", user: { id: "new@x.example", email: "new@x.example", firstName: "New", department: "Sales" } },
    ]);
    const after = await env.DB.prepare("SELECT id, version, status FROM directory_users WHERE tenant_id = ? ORDER BY id").bind(t.id).all();
    expect(after.results).toEqual(before.results);
    // The plan kept the file's keys in D1 while it ran, and forgot them when it ended.
    expect(await env.DB.prepare("SELECT count(*) AS n FROM import_keys").first("n")).toBe(0);
  });

  it("full mode disables everyone absent from the file, and refuses (409) past maxDisablePercent", async () => {
    const t = await createTenant();
    for (const n of ["a", "b", "c", "d", "e"]) await putUser(t, { id: `${n}@x.example`, email: `${n}@x.example` });
    const imp = await uploaded(t, "Email\na@x.example\nb@x.example\nc@x.example\nd@x.example\n");
    const partial = (await (await preview(t, imp.id, { mapping: { Email: "email" } })).json()) as Preview;
    expect(partial).toMatchObject({ unchanged: 4, disable: 0 });
    const full = (await (await preview(t, imp.id, { mapping: { Email: "email" }, mode: "full" })).json()) as Preview;
    expect(full).toMatchObject({ unchanged: 4, disable: 1 });
    const small = await uploaded(t, "Email\na@x.example\n");
    const refused = await preview(t, small.id, { mapping: { Email: "email" }, mode: "full" });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { detail: string }).detail).toContain("would disable 4 of 5 active people (80%)");
    expect((await preview(t, small.id, { mapping: { Email: "email" }, mode: "full", maxDisablePercent: 80 })).status).toBe(200);
  });

  it("a mapping that does not fit the file is a 422 naming the header", async () => {
    const t = await createTenant();
    const imp = await uploaded(t, "Email,Name\na@x.example,A\n");
    const res = await preview(t, imp.id, { mapping: { Mail: "email", Name: "nonsense" } });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: { path: string }[] };
    expect(body.errors.map((e) => e.path)).toEqual(["mapping.Mail", "mapping.Name"]);
    // Another tenant's import is simply not found.
    const other = await createTenant();
    expect((await preview(other, imp.id, { mapping: { Email: "email" } })).status).toBe(404);
  });
});

describe("#29.10 a malformed CSV is refused with its memory bounded", () => {
  it("an unclosed quote on row 2 followed by 3 MB is a 422 naming the line and the record limit, leaving nothing behind", async () => {
    const t = await createTenant();
    const line = `${"y".repeat(1023)}\n`;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('Email,Name\n"never@closed.example,'));
        else if (sent > 3 * 1024) return controller.close();
        else controller.enqueue(new TextEncoder().encode(line));
        sent++;
      },
    });
    const res = await upload(t, body);
    expect(res.status).toBe(422);
    const detail = JSON.stringify(await res.json());
    expect(detail, detail).toContain("line 2");
    expect(detail).toContain("1 MiB");
    expect(await leftBehind(t)).toEqual({ objects: 0, rows: 0 });
  });

  it("a row with more cells than a file may have columns is a 422 naming its line", async () => {
    const t = await createTenant();
    const res = await upload(t, `Email,Name\nwide@x.example,${",".repeat(600)}\n`);
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toContain("line 2");
  });
});

describe("#29.11 duplicate header names", () => {
  it("a file whose mapped header repeats is a 422 naming it; a repeated header left out is fine", async () => {
    const t = await createTenant();
    const imp = await uploaded(t, "Email,Department,Department,Notes,Notes\na@x.example,Sales,Research,x,y\n");
    const res = await preview(t, imp.id, { mapping: { Email: "email", Department: "department", Notes: null } });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: { path: string; message: string }[] };
    expect(body.errors).toEqual([{ path: "mapping.Department", message: expect.stringContaining("2 columns named Department") }]);
    // The same file with the repeated headers left out plans its row.
    const ok = await preview(t, imp.id, { mapping: { Email: "email", Department: null, Notes: null } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Preview).create).toBe(1);
  });
});

/** Waits for a run to end; answers it. */
async function runEnded(t: TestTenant, runId: string, timeoutMs = 60_000) {
  return eventually(async () => {
    const run = (await (await call(`/v1/runs/${runId}`, { token: t.apiKey })).json()) as { status: string; integrationId: string | null; kind: string; counts: Record<string, number>; detail: string | null };
    return run.status === "running" ? undefined : run;
  }, timeoutMs);
}

async function apply(t: TestTenant, id: string, body: Record<string, unknown>) {
  const res = await call(`/v1/imports/${id}/apply`, { method: "POST", json: body, token: t.apiKey });
  expect(res.status, await res.clone().text()).toBe(202);
  return runEnded(t, ((await res.json()) as { runId: string }).runId);
}

async function person(t: TestTenant, id: string) {
  return (await (await call(`/v1/directory/users/${encodeURIComponent(id)}`, { token: t.apiKey })).json()) as { status: string; firstName: string | null; department: string | null; version: number };
}

describe("CSV apply", () => {
  it("creates, updates and disables through an import run, and the same file applied again changes nothing", async () => {
    const t = await createTenant();
    await putUser(t, { id: "moved@x.example", email: "moved@x.example", firstName: "Moved", department: "Old" });
    await putUser(t, { id: "leaver@x.example", email: "leaver@x.example", firstName: "Leaver" });
    const imp = await uploaded(t, ["Email,First Name,Department,Status", "moved@x.example,Moved,New,", "leaver@x.example,Leaver,,disabled", "new@x.example,New,Sales,", "broken,Bad,,"].join("\n"));
    const mapping = { Email: "email", "First Name": "firstName", Department: "department", Status: "status" };
    const run = await apply(t, imp.id, { mapping, maxDisablePercent: 50 });
    expect(run).toMatchObject({ status: "done", kind: "import", integrationId: null, counts: { created: 1, updated: 1, disabled: 1, unchanged: 0, failed: 1 } });
    expect(await person(t, "moved@x.example")).toMatchObject({ department: "New", status: "active" });
    expect(await person(t, "leaver@x.example")).toMatchObject({ status: "disabled" });
    expect(await person(t, "new@x.example")).toMatchObject({ firstName: "New", department: "Sales", status: "active" });
    expect(await (await call(`/v1/imports/${imp.id}`, { token: t.apiKey })).json()).toMatchObject({ status: "applied" });
    const versions = await env.DB.prepare("SELECT id, version FROM directory_users WHERE tenant_id = ? ORDER BY id").bind(t.id).all();

    const again = await apply(t, imp.id, { mapping, maxDisablePercent: 50 });
    expect(again.counts).toMatchObject({ created: 0, updated: 0, disabled: 0, unchanged: 3 });
    expect((await env.DB.prepare("SELECT id, version FROM directory_users WHERE tenant_id = ? ORDER BY id").bind(t.id).all()).results).toEqual(versions.results);
  });

  it("full mode disables everyone absent from the file; past the guard apply is a 409 and changes nothing", async () => {
    const t = await createTenant();
    for (const n of ["a", "b", "c", "d", "e"]) await putUser(t, { id: `${n}@x.example`, email: `${n}@x.example` });
    const imp = await uploaded(t, "Email\na@x.example\nb@x.example\nc@x.example\nd@x.example\n");
    const run = await apply(t, imp.id, { mapping: { Email: "email" }, mode: "full" });
    expect(run.counts).toMatchObject({ disabled: 1, unchanged: 4 });
    expect(await person(t, "e@x.example")).toMatchObject({ status: "disabled" });
    const small = await uploaded(t, "Email\na@x.example\n");
    const refused = await call(`/v1/imports/${small.id}/apply`, { method: "POST", json: { mapping: { Email: "email" }, mode: "full" }, token: t.apiKey });
    expect(refused.status).toBe(409);
    expect(await person(t, "b@x.example")).toMatchObject({ status: "active" });
    expect(await (await call(`/v1/imports/${small.id}`, { token: t.apiKey })).json()).toMatchObject({ status: "uploaded", runId: null });
    // Neither the refused plan nor the applied one leaves files behind (the run deletes its plan as it ends).
    await eventually(async () => ((await env.FILES.list({ prefix: `plans/${t.id}/` })).objects.length === 0 ? true : undefined));
  });

  it("saves the tenant's mapping for scheduled pickup", async () => {
    const t = await createTenant();
    expect((await call("/v1/imports/mapping", { token: t.apiKey })).status).toBe(404);
    const saved = await call("/v1/imports/mapping", { method: "PUT", json: { mapping: { Email: "email", Dept: "department", Notes: null } }, token: t.apiKey });
    expect(await saved.json()).toEqual({ mapping: { Email: "email", Dept: "department", Notes: null }, mode: "full", maxDisablePercent: 20 });
    expect(await (await call("/v1/imports/mapping", { token: t.apiKey })).json()).toEqual({ mapping: { Email: "email", Dept: "department", Notes: null }, mode: "full", maxDisablePercent: 20 });
    expect((await call("/v1/imports/mapping", { method: "PUT", json: { mapping: { Dept: "department" } }, token: t.apiKey })).status).toBe(422);
  });
});

describe("CSV apply under redelivery", () => {
  it("a page delivered again while it runs, and again after it ended, counts every row once", async () => {
    const t = await createTenant();
    const lines = ["Email,First Name"];
    for (let i = 0; i < 3_000; i++) lines.push(`r${i}@redeliver.example,R${i}`);
    const imp = await uploaded(t, `${lines.join("\n")}\n`);
    const res = await call(`/v1/imports/${imp.id}/apply`, { method: "POST", json: { mapping: { Email: "email", "First Name": "firstName" } }, token: t.apiKey });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    // The queue delivers page 0; two more deliveries of it race with it and with each other.
    const job = { kind: "run" as const, tenantId: t.id, integrationId: null, runId, page: 0 };
    const db = createDb(env.DB);
    await Promise.all([handleImportPage(db, env, job), handleImportPage(db, env, job)]);
    const run = await runEnded(t, runId);
    await handleImportPage(db, env, job);
    expect(run).toMatchObject({ status: "done", counts: { created: 3_000, updated: 0, unchanged: 0, failed: 0 } });
    expect(((await (await call(`/v1/runs/${runId}`, { token: t.apiKey })).json()) as { counts: unknown }).counts).toEqual(run.counts);
    const people = await env.DB.prepare("SELECT count(*) AS n FROM directory_users WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(people!.n).toBe(3_000);
  }, 120_000);
});

describe("CSV apply at scale", () => {
  it("a 10,000-row file: the expected counts, and every person in scope at the Zoho CRM emulator exactly once", async () => {
    const { t, integrationId } = await connectedCrm();
    const before = (await contacts()).count;
    const tag = crypto.randomUUID().slice(0, 6);
    const lines = ["Email,First Name,Last Name,Role"];
    // Every hundredth person is a program manager: out of the integration's default scope.
    for (let i = 0; i < 10_000; i++) lines.push(`p${i}.${tag}@bulk.example,P${i},Bulk,${i % 100 === 0 ? "program_manager" : "mentee"}`);
    const imp = await uploaded(t, `${lines.join("\n")}\n`);
    expect(imp.rows).toBe(10_000);
    const res = await call(`/v1/imports/${imp.id}/apply`, { method: "POST", json: { mapping: { Email: "email", "First Name": "firstName", "Last Name": "lastName", Role: "role" } }, token: t.apiKey });
    expect(res.status).toBe(202);
    const run = await runEnded(t, ((await res.json()) as { runId: string }).runId, 120_000);
    expect(run).toMatchObject({ status: "done", counts: { created: 10_000, updated: 0, disabled: 0, failed: 0 } });
    await eventually(async () => {
      const synced = await env.DB.prepare("SELECT count(*) AS n FROM links WHERE integration_id = ? AND status = 'synced'").bind(integrationId).first<{ n: number }>();
      return synced!.n === 9_900 ? true : undefined;
    }, 180_000);
    const after = await contacts();
    expect(after.count - before).toBe(9_900);
    const emails = after.records.map((r) => String(r.Email)).filter((e) => e.includes(`.${tag}@`));
    expect(new Set(emails).size).toBe(9_900);
    expect(emails.length).toBe(9_900);
    const excluded = await env.DB.prepare("SELECT count(*) AS n FROM links WHERE integration_id = ? AND status = 'excluded'").bind(integrationId).first<{ n: number }>();
    expect(excluded!.n).toBe(100);
  }, 300_000);
});

describe("large files", () => {
  it("stores a 12 MiB upload sent in chunks of odd sizes (R2 wants equal parts but the last)", async () => {
    const t = await createTenant();
    const row = new TextEncoder().encode(`${"x".repeat(40)}@big.example,${"y".repeat(57)}\n`);
    const target = 12 * 1024 * 1024;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode("Email,Note\n"));
        if (sent >= target) return controller.close();
        // 9,973 rows a chunk: about 1 MB, never a divisor of a part.
        const chunk = new Uint8Array(row.byteLength * 9_973);
        for (let k = 0; k < 9_973; k++) chunk.set(row, k * row.byteLength);
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await upload(t, body);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(((await res.json()) as { rows: number }).rows).toBe(Math.ceil(target / (row.byteLength * 9_973)) * 9_973);
  }, 60_000);
});
