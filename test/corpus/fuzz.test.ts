import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../../src/directory/signature";
import { call, createTenant, type TestTenant } from "../helpers";

/**
 * Property-based fuzz of the webhook and REST schemas (issue #20) with fast-check, bounded
 * to a few seconds: whatever the body, the hub answers a documented status (every answer is
 * also checked against the OpenAPI document by `call`), never a 5xx; a refusal is a problem
 * body; and what it accepts it stores exactly as sent.
 */

let t: TestTenant;
beforeAll(async () => {
  t = await createTenant("Fuzz");
});

const RUNS = 60;

/** Strings that mix the plain with what breaks parsers: controls, surrogates, RTL marks, quotes, SQL. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("", " ", "\u0000", "\ud800", "\u202e", "\u200f", "'; DROP TABLE users;--", '"', "\\", "=cmd|' /C calc'!A0", "../..", "%00", "\r\n", "a".repeat(257)),
);

const email = fc.oneof(fc.emailAddress(), nasty);
const userish = fc.record(
  {
    id: fc.oneof(fc.stringMatching(/^[a-z0-9_-]{1,20}$/), nasty),
    email,
    firstName: fc.oneof(nasty, fc.constant(null)),
    lastName: nasty,
    status: fc.oneof(fc.constantFrom("active", "disabled"), nasty),
    department: nasty,
    dateOfBirth: fc.oneof(fc.constantFrom("2000-01-31", "2021-02-30", "31-01-2000"), nasty),
    attributes: fc.dictionary(fc.string({ minLength: 0, maxLength: 70 }), fc.oneof(nasty, fc.integer()), { maxKeys: 4 }),
    extra: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: [] },
);

async function expectProblem(res: Response) {
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as { status: number };
  expect(body.status).toBe(res.status);
}

let seq = 0;

async function signedWebhook(body: string): Promise<Response> {
  const id = `msg_fuzz_${seq++}_${Date.now()}`;
  const ts = String(Math.floor(Date.now() / 1000));
  return call(`/webhooks/${t.id}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": await signWebhook(t.webhookSecret, id, ts, body) },
  });
}

describe("fuzz", () => {
  it("a signed webhook of any JSON gets 202, 400 or 422, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.record({ type: fc.constantFrom("user.created", "user.updated", "user.disabled", "user.deleted", "user.other"), timestamp: fc.oneof(fc.date({ noInvalidDate: true, min: new Date("2000-01-01"), max: new Date("2100-01-01") }).map((d) => d.toISOString()), nasty), data: userish })), async (event) => {
        const res = await signedWebhook(JSON.stringify(event));
        expect([202, 400, 422]).toContain(res.status);
        if (res.status >= 400) await expectProblem(res);
      }),
      { numRuns: RUNS },
    );
  });

  it("a user PUT of any shape is refused with a problem, or stored exactly as sent", async () => {
    await fc.assert(
      fc.asyncProperty(userish, async (user) => {
        const id = typeof user.id === "string" && /^[a-z0-9_-]{1,20}$/.test(user.id) ? user.id : "fuzzed";
        const res = await call(`/v1/directory/users/${encodeURIComponent(id)}`, { method: "PUT", json: { ...user, id }, token: t.apiKey });
        expect([200, 201, 409, 422]).toContain(res.status);
        if (res.status >= 400) return expectProblem(res);
        const stored = (await (await call(`/v1/directory/users/${encodeURIComponent(id)}`, { token: t.apiKey })).json()) as Record<string, unknown>;
        for (const [field, value] of Object.entries(user)) if (field !== "id" && value !== null) expect(stored[field]).toEqual(value);
      }),
      { numRuns: RUNS },
    );
  });

  it("a list route with any query answers 200, 400 or 422, never a 5xx", async () => {
    const routes = ["/v1/directory/users", "/v1/integrations", "/v1/runs", "/v1/imports"];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.dictionary(fc.constantFrom("limit", "cursor", "q", "status", "x"), nasty, { maxKeys: 3 }), async (route, query) => {
        const res = await call(`${route}?${new URLSearchParams(query as Record<string, string>)}`, { token: t.apiKey });
        expect([200, 400, 422]).toContain(res.status);
        if (res.status >= 400) await expectProblem(res);
      }),
      { numRuns: RUNS },
    );
  });
});
