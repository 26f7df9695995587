import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { PROFILE_FIELDS } from "../../src/lib/user-fields";
import { call, createTenant, signWebhook, type TestTenant } from "../helpers";

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

const RUNS = 100;

/** Strings that mix the plain with what breaks parsers: controls, surrogates, RTL marks, quotes, SQL. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("", " ", "\u0000", "\ud800", "\u202e", "\u200f", "'; DROP TABLE users;--", '"', "\\", "=cmd|' /C calc'!A0", "../..", "%00", "\r\n", "a".repeat(257)),
);

/** Mostly well-formed text (any script), sometimes nasty. */
const text = fc.oneof({ weight: 8, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)) }, { weight: 1, arbitrary: nasty });
const email = fc.oneof({ weight: 8, arbitrary: fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}[a-z0-9]@[a-z]{1,8}\.(com|org|example)$/) }, { weight: 1, arbitrary: nasty });
const userish = fc.record(
  {
    id: fc.oneof({ weight: 8, arbitrary: fc.stringMatching(/^[a-z0-9_-]{1,20}$/) }, { weight: 1, arbitrary: nasty }),
    email,
    firstName: fc.oneof(text, fc.constant(null)),
    lastName: text,
    status: fc.oneof({ weight: 8, arbitrary: fc.constantFrom("active", "disabled") }, { weight: 1, arbitrary: nasty }),
    department: text,
    dateOfBirth: fc.oneof({ weight: 6, arbitrary: fc.date({ noInvalidDate: true, min: new Date("1900-01-01"), max: new Date("2030-12-31") }).map((d) => d.toISOString().slice(0, 10)) }, { weight: 1, arbitrary: fc.constantFrom("2021-02-30", "31-01-2000") }, { weight: 1, arbitrary: nasty }),
    attributes: fc.dictionary(fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[a-z]{1,10}$/) }, { weight: 1, arbitrary: fc.string({ maxLength: 70 }) }), fc.oneof({ weight: 8, arbitrary: text }, { weight: 1, arbitrary: fc.integer() }), { maxKeys: 4 }),
  },
  { requiredKeys: ["id", "email"] },
);
/** Now and then a key outside the contract. */
const withExtra = fc.tuple(userish, fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) })).map(([user, extra]) => (extra === null ? user : { ...user, extra }));

/** A webhook body: mostly an event envelope, sometimes any JSON at all. */
const envelope = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.oneof({ weight: 8, arbitrary: fc.constantFrom("user.created", "user.updated", "user.disabled", "user.deleted") }, { weight: 1, arbitrary: nasty }),
      timestamp: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: -86_400_000, max: 60_000 }).map((ms) => new Date(Date.now() + ms).toISOString()) }, { weight: 1, arbitrary: nasty }),
      data: withExtra,
    }),
  },
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
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(envelope, async (event) => {
        const res = await signedWebhook(JSON.stringify(event));
        expect([202, 400, 422]).toContain(res.status);
        if (res.status >= 400) await expectProblem(res);
        else accepted++;
      }),
      { numRuns: RUNS },
    );
    // Enough of the generated deliveries were valid for the property to say something about them.
    expect(accepted).toBeGreaterThan(RUNS / 10);
  });

  it("a user PUT of any shape is refused with a problem, or stored exactly as sent", async () => {
    let stored = 0;
    await fc.assert(
      fc.asyncProperty(withExtra, async (user) => {
        const id = typeof user.id === "string" && /^[a-z0-9_-]{1,20}$/.test(user.id) ? user.id : "fuzzed";
        const res = await call(`/v1/directory/users/${encodeURIComponent(id)}`, { method: "PUT", json: { ...user, id }, token: t.apiKey });
        expect([200, 201, 409, 422]).toContain(res.status);
        if (res.status >= 400) return expectProblem(res);
        stored++;
        const back = (await (await call(`/v1/directory/users/${encodeURIComponent(id)}`, { token: t.apiKey })).json()) as Record<string, unknown>;
        // An empty profile field is the same as none (docs/api.md).
        const expected = (field: string, value: unknown) => (value === "" && (PROFILE_FIELDS as readonly string[]).includes(field) ? null : value);
        for (const [field, value] of Object.entries(user)) if (field !== "id" && value !== null) expect(back[field]).toEqual(expected(field, value));
      }),
      { numRuns: RUNS },
    );
    expect(stored).toBeGreaterThan(RUNS / 10);
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
