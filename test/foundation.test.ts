import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { call, createTenant, OPERATOR_TOKEN, problem } from "./helpers";

describe("health and routing", () => {
  it("GET /healthz answers 200 with a reachable database", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, database: true, settings: { ok: true, problems: [] } });
  });

  it("GET /healthz names a setting that would fail requests (503), as .dev.vars with escaped JSON did", async () => {
    // What wrangler read from `ZOHO_DATA_CENTERS="[{\"id\":…}]"`: the backslashes stay.
    const escaped = JSON.stringify(env.ZOHO_DATA_CENTERS).slice(1, -1);
    const res = await createApp().request("/healthz", {}, { ...env, ZOHO_DATA_CENTERS: escaped, ENCRYPTION_KEY: "c2hvcnQ=" });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { ok: boolean; settings: { problems: string[] } };
    expect(body.ok).toBe(false);
    expect(body.settings.problems).toEqual(["ZOHO_DATA_CENTERS is not valid JSON", "ENCRYPTION_KEY must be base64 of 32 bytes"]);
  });

  it("an unknown route is a 404 problem", async () => {
    const res = await call("/nope");
    expect(res.status).toBe(404);
    expect((await problem(res)).type).toBe("/problems/not-found");
  });

  it("a known path with another method is a 405 naming what it takes in Allow; an unknown path stays 404", async () => {
    const t = await createTenant();
    for (const [method, path, allow] of [
      ["PUT", "/v1/runs", "GET, HEAD"],
      ["TRACE", "/v1/tenant", "GET, HEAD, PATCH"],
      ["DELETE", "/healthz", "GET, HEAD"],
      ["GET", "/v1/secrets/rotate", "POST"],
      ["PATCH", "/v1/directory/users/u_1", "DELETE, GET, HEAD, PUT"],
    ] as const) {
      const res = await call(path, { method, token: t.apiKey });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      expect((await problem(res)).type).toBe("/problems/method-not-allowed");
    }
    expect((await call("/v1/nothing-here", { method: "PUT", token: t.apiKey })).status).toBe(404);
  });

  it("a path id that could never exist is a 404 like an unknown one, not a 422", async () => {
    const t = await createTenant();
    for (const [method, path] of [
      ["GET", `/v1/integrations/int_${"x".repeat(80)}`],
      ["GET", `/v1/runs/run_${"x".repeat(80)}`],
      ["GET", `/v1/directory/users/${"u".repeat(300)}`],
      ["DELETE", `/v1/directory/users/${"u".repeat(300)}`],
      ["POST", `/v1/integrations/${"i".repeat(65)}/resync`],
    ] as const) {
      const res = await call(path, { method, token: t.apiKey, ...(method === "POST" ? { json: {} } : {}) });
      expect(res.status, `${method} ${path.slice(0, 40)}`).toBe(404);
    }
  });

  it("the document states the limits the API enforces: limit 1-500, mapping fields, e-mail and date-time patterns", async () => {
    const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, Record<string, any>> };
    const limit = doc.paths["/v1/directory/users"]!.get.parameters.find((p: { name: string }) => p.name === "limit");
    expect(limit.schema).toEqual({ type: "integer", minimum: 1, maximum: 500, default: 50 });
    const t = await createTenant();
    for (const value of ["0", "501", "abc", "1.5", "-1", ""]) {
      expect((await call(`/v1/directory/users?limit=${value}`, { token: t.apiKey })).status, `limit=${value}`).toBe(422);
    }
    const put = doc.paths["/v1/directory/users/{id}"]!.put.requestBody.content["application/json"].schema;
    expect(put.properties.email.pattern).toBeTruthy();
    expect(put.properties.updatedAt).toMatchObject({ format: "date-time" });
    for (const email of ["a@b", "a b@c.example", "\"q\"@c.example", " ada@c.example", "ada@-c.example"]) {
      expect((await call("/v1/directory/users/u_e", { method: "PUT", json: { email }, token: t.apiKey })).status, email).toBe(422);
    }
    for (const updatedAt of ["2026-11-21T10:00Z", "2026-02-30T10:00:00Z", "2026-11-21 10:00:00Z", "2026-11-21T10:00:00"]) {
      expect((await call("/v1/directory/users/u_e", { method: "PUT", json: { email: "e@c.example", updatedAt }, token: t.apiKey })).status, updatedAt).toBe(422);
    }
    const mappingFrom = JSON.stringify(doc.paths["/v1/integrations"]!.post.requestBody.content["application/json"].schema);
    expect(mappingFrom).toContain('"enum":["id","email","firstName"');
    const bad = await call("/v1/integrations", { method: "POST", json: { provider: "zoho-crm", config: { mapping: [{ to: "Email", from: "emial" }] } }, token: t.apiKey });
    expect(bad.status).toBe(422);
  });

  it("serves an OpenAPI document generated from the route schemas", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    expect(doc.openapi).toMatch(/^3\./);
    const create = doc.paths["/v1/tenants"]?.post;
    expect(create?.requestBody).toMatchObject({
      content: { "application/json": { schema: { properties: { name: { type: "string" } }, required: ["name"] } } },
    });
    expect(doc.paths["/v1/secrets/rotate"]?.post).toBeDefined();
  });
});

describe("tenants", () => {
  it("creating a tenant needs the operator token (401 without, 401 with a wrong one)", async () => {
    const none = await call("/v1/tenants", { method: "POST", json: { name: "X" } });
    expect(none.status).toBe(401);
    expect((await problem(none)).title).toBe("Unauthorized");
    const wrong = await call("/v1/tenants", { method: "POST", json: { name: "X" }, token: "not-the-token" });
    expect(wrong.status).toBe(401);
  });

  it("the operator creates a tenant and receives its credentials once", async () => {
    const res = await call("/v1/tenants", { method: "POST", json: { name: "Acme" }, token: OPERATOR_TOKEN });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, any>;
    expect(body.tenant.id).toMatch(/^ten_/);
    expect(body.tenant.name).toBe("Acme");
    expect(new Date(body.tenant.createdAt).toISOString()).toBe(body.tenant.createdAt);
    expect(body.apiKey).toMatch(/^usk_/);
    expect(body.webhookSecret).toMatch(/^whsec_/);
    expect(body.ssoSecret.length).toBeGreaterThan(20);
  });

  it("an operator token is not a tenant API key", async () => {
    const res = await call("/v1/secrets/rotate", { method: "POST", json: { which: "apiKey" }, token: OPERATOR_TOKEN });
    expect(res.status).toBe(401);
  });
});

describe("tenant API keys", () => {
  it("a valid key authenticates; a wrong key or none is 401", async () => {
    const t = await createTenant();
    const ok = await call("/v1/secrets/rotate", { method: "POST", json: { which: "webhookSecret" }, token: t.apiKey });
    expect(ok.status).toBe(200);
    const wrong = await call("/v1/secrets/rotate", { method: "POST", json: { which: "webhookSecret" }, token: t.apiKey + "x" });
    expect(wrong.status).toBe(401);
    const none = await call("/v1/secrets/rotate", { method: "POST", json: { which: "webhookSecret" } });
    expect(none.status).toBe(401);
  });

  it("Security: the raw D1 rows hold no plaintext API key or secret", async () => {
    const t = await createTenant();
    const keyRows = await env.DB.prepare("SELECT * FROM api_keys WHERE tenant_id = ?").bind(t.id).all();
    const secretRows = await env.DB.prepare("SELECT * FROM tenant_secrets WHERE tenant_id = ?").bind(t.id).all();
    const raw = JSON.stringify([keyRows.results, secretRows.results]);
    expect(keyRows.results).toHaveLength(1);
    expect(secretRows.results).toHaveLength(3);
    expect(raw).not.toContain(t.apiKey);
    expect(raw).not.toContain(t.apiKey.slice(4));
    expect(raw).not.toContain(t.webhookSecret.slice(6));
    expect(raw).not.toContain(t.ssoSecret);
    expect(raw).not.toContain(t.eventSecret.slice(6));
  });

  it("rotating the API key retires the old key at once and the new one works", async () => {
    const t = await createTenant();
    const res = await call("/v1/secrets/rotate", { method: "POST", json: { which: "apiKey" }, token: t.apiKey });
    expect(res.status).toBe(200);
    const { value, which } = (await res.json()) as { value: string; which: string };
    expect(which).toBe("apiKey");
    expect(value).toMatch(/^usk_/);
    expect(value).not.toBe(t.apiKey);
    const old = await call("/v1/secrets/rotate", { method: "POST", json: { which: "ssoSecret" }, token: t.apiKey });
    expect(old.status).toBe(401);
    const fresh = await call("/v1/secrets/rotate", { method: "POST", json: { which: "ssoSecret" }, token: value });
    expect(fresh.status).toBe(200);
  });
});

describe("bad input gets a clear answer", () => {
  it("malformed JSON is a 400 problem", async () => {
    const res = await call("/v1/tenants", {
      method: "POST",
      body: '{"name": ',
      headers: { "content-type": "application/json", authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    expect(res.status).toBe(400);
    const p = await problem(res);
    expect(p.status).toBe(400);
    expect(p.title).toBe("Malformed JSON");
  });

  it("a 300 KiB body is a 413 problem", async () => {
    const res = await call("/v1/tenants", { method: "POST", json: { name: "x".repeat(300 * 1024) }, token: OPERATOR_TOKEN });
    expect(res.status).toBe(413);
    expect((await problem(res)).status).toBe(413);
  });

  it("a 300 KiB body without Content-Length is still a 413", async () => {
    const chunk = new TextEncoder().encode("x".repeat(1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 300) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await call("/v1/tenants", {
      method: "POST",
      body: stream,
      headers: { "content-type": "application/json", authorization: `Bearer ${OPERATOR_TOKEN}` },
      // @ts-expect-error duplex is needed for streaming request bodies
      duplex: "half",
    });
    expect(res.status).toBe(413);
  });

  it("a body that is not JSON is a 415 problem", async () => {
    const res = await call("/v1/tenants", {
      method: "POST",
      body: "name=Acme",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    expect(res.status).toBe(415);
  });

  it("a body failing validation is a 422 problem with errors[].path", async () => {
    const res = await call("/v1/tenants", { method: "POST", json: { name: 42, extra: true }, token: OPERATOR_TOKEN });
    expect(res.status).toBe(422);
    const p = await problem(res);
    expect(p.errors?.map((e) => e.path)).toEqual(expect.arrayContaining(["name", "extra"]));
    const rotate = await call("/v1/secrets/rotate", { method: "POST", json: { which: "password" }, token: (await createTenant()).apiKey });
    expect(rotate.status).toBe(422);
    expect((await problem(rotate)).errors).toEqual([{ path: "which", message: "Expected apiKey, webhookSecret, ssoSecret or eventSecret." }]);
  });

  it("Security: a 500 answers no stack trace or internal message", async () => {
    // A broken ENCRYPTION_KEY makes tenant creation fail inside the crypto layer.
    const { createApp } = await import("../src/app");
    const res = await createApp().request(
      "/v1/tenants",
      { method: "POST", body: JSON.stringify({ name: "x" }), headers: { "content-type": "application/json", authorization: `Bearer ${OPERATOR_TOKEN}` } },
      { ...env, ENCRYPTION_KEY: "short" },
    );
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("ENCRYPTION_KEY");
    expect(text).not.toContain("at ");
    expect(JSON.parse(text)).toMatchObject({ status: 500, title: "Internal error" });
  });
});

describe("Security: tenant walls", () => {
  it("each API key sees only its own tenant", async () => {
    const a = await createTenant("A");
    const b = await createTenant("B");
    const resA = await call("/v1/tenant", { token: a.apiKey });
    const resB = await call("/v1/tenant", { token: b.apiKey });
    expect(((await resA.json()) as { id: string }).id).toBe(a.id);
    expect(((await resB.json()) as { id: string }).id).toBe(b.id);
  });
});

describe("liveness", () => {
  it("GET /livez answers 200 without touching D1", async () => {
    const res = await call("/livez");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
  });
});

describe("#29.14 the favicon", () => {
  it("GET /favicon.ico answers an icon, so no page's first load logs a 404", async () => {
    const res = await call("/favicon.ico");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    expect(await res.text()).toContain("<svg");
  });
});
