import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { call, createTenant, insertIntegration, OPERATOR_TOKEN, signWebhook, type TestTenant } from "../helpers";
import { BAD_REQUESTS, type BadRequest } from "./bad-input.cases";

/**
 * The bad-input corpus (issue #20): every request of `bad-input.cases.ts` gets one of its
 * documented answers — a 4xx with a problem body, never a 5xx (each answer is also checked
 * against the OpenAPI document by `call`) — and changes nothing: every D1 table is read
 * before and after the whole corpus and must be the same. A replayed webhook is answered
 * 200 `duplicate` and changes nothing either.
 */

interface Fixture {
  tenant: TestTenant;
  other: TestTenant;
  integration: string;
  otherIntegration: string;
  importId: string;
}

let fx: Fixture;

beforeAll(async () => {
  const tenant = await createTenant("Corpus");
  const other = await createTenant("Other");
  const integration = await insertIntegration(tenant.id, "active");
  const otherIntegration = await insertIntegration(other.id, "active");
  expect((await call("/v1/directory/users/corpus-user", { method: "PUT", json: { id: "corpus-user", email: "corpus@example.com", firstName: "Cor" }, token: tenant.apiKey })).status).toBe(201);
  const upload = await call("/v1/imports", { method: "POST", body: "Email,Name\nada@corpus.example,Ada\n", headers: { "content-type": "text/csv" }, token: tenant.apiKey });
  expect(upload.status).toBe(201);
  const importId = ((await upload.json()) as { id: string }).id;
  fx = { tenant, other, integration, otherIntegration, importId };
});

/** Every row of every table of the hub, in a stable order. */
async function snapshot(): Promise<Record<string, unknown[]>> {
  const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations' ORDER BY name").all<{ name: string }>();
  const out: Record<string, unknown[]> = {};
  for (const { name } of tables.results) out[name] = (await env.DB.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all()).results;
  return out;
}

function fill(path: string): string {
  return path
    .replaceAll(":tenant", fx.tenant.id)
    .replaceAll(":integration", fx.integration)
    .replaceAll(":other", fx.otherIntegration)
    .replaceAll(":import", fx.importId);
}

let seq = 0;

async function send(c: BadRequest): Promise<Response> {
  const headers = new Headers(c.headers);
  let body: string | Uint8Array | undefined = c.body;
  if (c.json !== undefined) body = JSON.stringify(c.json);
  if (body !== undefined && c.contentType !== null) headers.set("content-type", c.contentType ?? "application/json");
  const token = { key: fx.tenant.apiKey, operator: OPERATOR_TOKEN, forged: "usk_00000000000000000000000000000000", none: undefined }[c.auth ?? "key"];
  if (c.webhook && c.webhook !== "none") {
    const text = typeof body === "string" ? body : new TextDecoder().decode(body ?? new Uint8Array());
    const id = `msg_corpus_${seq++}`;
    const now = Math.floor(Date.now() / 1000);
    const ts = { stale: now - 600, future: now + 600 }[c.webhook as string] ?? now;
    const secret = c.webhook === "other-tenant" ? fx.other.webhookSecret : fx.tenant.webhookSecret;
    const signature = c.webhook === "wrong-secret" ? await signWebhook("whsec_" + btoa("not the tenant's secret, 32 bytes"), id, String(ts), text) : await signWebhook(secret, id, String(ts), text);
    if (c.webhook !== "no-id") headers.set("webhook-id", id);
    if (c.webhook !== "no-timestamp") headers.set("webhook-timestamp", c.webhook === "non-numeric-timestamp" ? "soon" : String(ts));
    headers.set("webhook-signature", { malformed: "v1,!!!not base64!!!", "two-wrong": "v1,AAAA v1,BBBB" }[c.webhook as string] ?? signature);
  }
  return call(fill(c.path), { method: c.method, body, headers, token });
}

describe("the bad-input corpus", () => {
  it(`holds at least 200 requests (${BAD_REQUESTS.length})`, () => {
    expect(BAD_REQUESTS.length).toBeGreaterThanOrEqual(200);
  });

  it("answers each with its documented 4xx and a problem body, and changes nothing", async () => {
    const before = await snapshot();
    const wrong: string[] = [];
    for (const c of BAD_REQUESTS) {
      let res: Response;
      try {
        res = await send(c);
      } catch (err) {
        // `call` refuses an answer the OpenAPI document does not list for the route.
        wrong.push(`${c.method} ${c.path.slice(0, 80)} (${c.name}): ${(err as Error).message}`);
        continue;
      }
      const allowed = Array.isArray(c.status) ? c.status : [c.status];
      const type = res.headers.get("content-type") ?? "";
      const text = await res.text();
      if (!allowed.includes(res.status)) wrong.push(`${c.method} ${c.path.slice(0, 80)} (${c.name}): ${res.status}, expected ${allowed.join(" or ")}: ${text.slice(0, 200)}`);
      else if (res.status >= 400 && !type.startsWith("application/problem+json") && !type.startsWith("text/html")) wrong.push(`${c.method} ${c.path.slice(0, 80)} (${c.name}): ${res.status} without a problem body (${type})`);
    }
    expect(wrong).toEqual([]);
    expect(await snapshot()).toEqual(before);
  }, 120_000);

  it("answers a replayed webhook 200 duplicate, and the replay changes nothing", async () => {
    const body = JSON.stringify({ type: "user.created", timestamp: "2026-11-21T10:00:00Z", data: { id: "replayed", email: "replayed@example.com" } });
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = { "content-type": "application/json", "webhook-id": "msg_replayed", "webhook-timestamp": ts, "webhook-signature": await signWebhook(fx.tenant.webhookSecret, "msg_replayed", ts, body) };
    expect((await call(`/webhooks/${fx.tenant.id}`, { method: "POST", body, headers })).status).toBe(202);
    const before = await snapshot();
    const again = await call(`/webhooks/${fx.tenant.id}`, { method: "POST", body, headers });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ accepted: true, duplicate: true });
    // The same id with another body (an attacker who saw the headers) is refused by the signature.
    const forged = await call(`/webhooks/${fx.tenant.id}`, { method: "POST", body: body.replace("replayed@", "attacker@"), headers });
    expect(forged.status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });
});
