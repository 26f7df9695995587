import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, createTenant, insertIntegration, sessionCookie, signWebhook, type TestTenant } from "../helpers";

/**
 * Security (issue #20): another tenant's ids are not found, on every route. Tenant A,
 * with its own API key or its own dashboard session, names tenant B's integration, person,
 * import and run in every path of the OpenAPI document that takes an id, and in every
 * dashboard page and form: each is a 404, and nothing stored changes (every D1 table is
 * read before and after).
 */

interface Side {
  t: TestTenant;
  integration: string;
  user: string;
  importId: string;
  run: string;
}

let a: Side;
let b: Side;

async function side(name: string): Promise<Side> {
  const t = await createTenant(name);
  const integration = await insertIntegration(t.id, "active");
  const user = `${name.toLowerCase()}-person`;
  expect((await call(`/v1/directory/users/${user}`, { method: "PUT", json: { id: user, email: `${user}@example.com` }, token: t.apiKey })).status).toBe(201);
  const upload = await call("/v1/imports", { method: "POST", body: "Email\nx@example.com\n", headers: { "content-type": "text/csv" }, token: t.apiKey });
  const importId = ((await upload.json()) as { id: string }).id;
  const run = `run_${name.toLowerCase()}_held`;
  await env.DB.prepare("INSERT INTO runs (id, tenant_id, integration_id, kind, status, trigger, page, started_at) VALUES (?, ?, ?, 'resync', 'held', 'api', 0, ?)").bind(run, t.id, integration, Date.now()).run();
  await env.DB.prepare("INSERT INTO links (tenant_id, integration_id, user_id, status, remote_id, updated_at) VALUES (?, ?, ?, 'synced', 'remote-1', ?)").bind(t.id, integration, user, Date.now()).run();
  return { t, integration, user, importId, run };
}

beforeAll(async () => {
  a = await side("Alpha");
  b = await side("Beta");
});

async function snapshot(): Promise<Record<string, unknown[]>> {
  const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations' ORDER BY name").all<{ name: string }>();
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables.results) out[name] = (await env.DB.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()).results;
  return out;
}

/** B's id for a path parameter, by the parameter's name and the path it is in. */
function bIdFor(template: string, param: string): string {
  if (param === "userId") return b.user;
  if (param === "tenantId") return b.t.id;
  if (template.startsWith("/v1/integrations") || template.startsWith("/connect")) return b.integration;
  if (template.startsWith("/v1/directory/users")) return b.user;
  if (template.startsWith("/v1/imports")) return b.importId;
  if (template.startsWith("/v1/runs")) return b.run;
  throw new Error(`no id of tenant B for ${param} in ${template}`);
}

/** A body each route would take from its own tenant, so that only the id makes the difference. */
function bodyFor(method: string, template: string): unknown {
  if (method === "GET" || method === "DELETE") return undefined;
  if (template.endsWith("/links/{userId}")) return { remoteId: "remote-2" };
  if (template.startsWith("/v1/imports/")) return { mapping: { Email: "email" }, mode: "partial" };
  if (method === "PATCH") return { name: "taken over" };
  return {};
}

describe("Security: another tenant's ids", () => {
  it("every API route that takes an id answers 404 to another tenant's, and nothing changes", async () => {
    const doc = (await (await exports.default.fetch(new Request("http://hub.test/openapi.json"))).json()) as { paths: Record<string, Record<string, unknown>> };
    const before = await snapshot();
    const tried: string[] = [];
    const wrong: string[] = [];
    for (const [template, methods] of Object.entries(doc.paths)) {
      const params = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      if (!params.length || template.startsWith("/webhooks") || template === "/connect/{id}") continue;
      if (template === "/v1/tenants/{id}") {
        // The operator's route: no tenant's key reaches it, its own tenant's id or another's.
        for (const id of [a.t.id, b.t.id]) expect((await call(`/v1/tenants/${id}`, { method: "PATCH", token: a.t.apiKey, json: { providers: ["zoho-crm"] } })).status).toBe(401);
        continue;
      }
      for (const method of Object.keys(methods).map((m) => m.toUpperCase())) {
        // PUT of a person names an id in the caller's own directory: it is checked below.
        if (method === "PUT" && template === "/v1/directory/users/{id}") continue;
        const path = params.reduce((p, name) => p.replace(`{${name}}`, encodeURIComponent(bIdFor(template, name))), template);
        const body = bodyFor(method, template);
        const res = await call(path, { method, token: a.t.apiKey, ...(body === undefined ? {} : { json: body }) });
        tried.push(`${method} ${template}`);
        if (res.status !== 404) wrong.push(`${method} ${path}: ${res.status} ${(await res.text()).slice(0, 160)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(tried.length).toBeGreaterThanOrEqual(24);
    expect(await snapshot()).toEqual(before);
  });

  it("a PUT of another tenant's person id writes a person of the caller's own directory, and B's is untouched", async () => {
    // An id of B's that the other tests do not name, so that A holding one too changes nothing for them.
    const id = "beta-shared";
    expect((await call(`/v1/directory/users/${id}`, { method: "PUT", json: { id, email: "shared@beta.example" }, token: b.t.apiKey })).status).toBe(201);
    const before = await env.DB.prepare("SELECT * FROM directory_users WHERE tenant_id = ? AND id = ?").bind(b.t.id, id).first();
    const res = await call(`/v1/directory/users/${id}`, { method: "PUT", json: { id, email: "mine@example.com" }, token: a.t.apiKey });
    expect(res.status).toBe(201);
    expect(await env.DB.prepare("SELECT * FROM directory_users WHERE tenant_id = ? AND id = ?").bind(b.t.id, id).first()).toEqual(before);
    expect((await env.DB.prepare("SELECT tenant_id FROM directory_users WHERE id = ? AND email = 'mine@example.com'").bind(id).first())?.tenant_id).toBe(a.t.id);
  });

  it("a webhook signed with A's secret to B's endpoint is refused (401), and nothing changes", async () => {
    const before = await snapshot();
    const body = JSON.stringify({ type: "user.updated", timestamp: new Date().toISOString(), data: { id: b.user, email: "taken@example.com" } });
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await call(`/webhooks/${b.t.id}`, { method: "POST", body, headers: { "content-type": "application/json", "webhook-id": "msg_cross", "webhook-timestamp": ts, "webhook-signature": await signWebhook(a.t.webhookSecret, "msg_cross", ts, body) } });
    expect(res.status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it("every dashboard page and form that takes an id answers 404 to another tenant's, and nothing changes", async () => {
    const cookie = await sessionCookie(a.t);
    const home = await (await call("/dashboard", { headers: { cookie, accept: "text/html" } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(home)?.[1];
    expect(csrf).toBeTruthy();
    const i = b.integration;
    const pages = [
      `/dashboard/integrations/${i}`,
      `/dashboard/integrations/${i}/delete`,
      `/dashboard/integrations/${i}/unmatched`,
      `/dashboard/integrations/${i}/logs`,
      `/dashboard/users/${b.user}`,
      `/dashboard/runs/${b.run}`,
      `/dashboard/imports/${b.importId}`,
    ];
    const forms: [string, Record<string, string>][] = [
      [`/dashboard/integrations/${i}/config`, { config: "{}" }],
      [`/dashboard/integrations/${i}/handlers`, { before: "", afterUrl: "", afterEvents: "" }],
      [`/dashboard/integrations/${i}/handlers/try`, { before: "user", userId: b.user }],
      [`/dashboard/integrations/${i}/handlers/test`, {}],
      [`/dashboard/integrations/${i}/deactivate`, {}],
      [`/dashboard/integrations/${i}/activate`, {}],
      [`/dashboard/integrations/${i}/delete`, { confirm: i }],
      [`/dashboard/integrations/${i}/resync`, {}],
      [`/dashboard/integrations/${i}/reconcile`, {}],
      [`/dashboard/integrations/${i}/links/${b.user}`, { remoteId: "remote-2" }],
      [`/dashboard/integrations/${i}/links/${b.user}/unlink`, {}],
      [`/dashboard/runs/${b.run}/approve`, {}],
      [`/dashboard/runs/${b.run}/cancel`, {}],
      [`/dashboard/imports/${b.importId}/preview`, { "map.Email": "email", mode: "partial" }],
      [`/dashboard/imports/${b.importId}/apply`, { "map.Email": "email", mode: "partial" }],
      [`/dashboard/imports/${b.importId}/save-mapping`, { "map.Email": "email", mode: "partial" }],
    ];
    const before = await snapshot();
    const wrong: string[] = [];
    for (const path of pages) {
      const res = await call(path, { headers: { cookie, accept: "text/html" } });
      if (res.status !== 404) wrong.push(`GET ${path}: ${res.status}`);
    }
    for (const [path, form] of forms) {
      const res = await call(path, {
        method: "POST",
        headers: { cookie, accept: "text/html", "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ ...form, _csrf: csrf! }).toString(),
      });
      if (res.status !== 404) wrong.push(`POST ${path}: ${res.status} ${(await res.text()).slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
    expect(await snapshot()).toEqual(before);
    // The same pages with A's own ids are there: the 404s above were the ids, not the paths.
    for (const path of pages) {
      const own = path.replace(b.integration, a.integration).replace(b.user, a.user).replace(b.run, a.run).replace(b.importId, a.importId);
      expect([own, (await call(own, { headers: { cookie, accept: "text/html" } })).status]).toEqual([own, 200]);
    }
  });
});
