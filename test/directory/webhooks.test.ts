import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { verifyWebhook } from "../../src/directory/signature";
import type { JobMessage } from "../../src/queue/messages";
import { tenantBursts } from "../../src/lib/bursts";
import { call, createTenant, eventually, insertIntegration, observedQueue, problem, sendWebhook, signWebhook, userEvent } from "../helpers";

const ada = { id: "u_123", email: "Ada@example.com", firstName: "Ada", lastName: "Lovelace", role: "mentee" };

async function userRow(tenantId: string, id: string) {
  return env.DB.prepare("SELECT * FROM directory_users WHERE tenant_id = ? AND id = ?").bind(tenantId, id).first<Record<string, any>>();
}

async function webhookRows(tenantId: string) {
  const { results } = await env.DB.prepare("SELECT webhook_id, outcome FROM webhook_events WHERE tenant_id = ? ORDER BY received_at").bind(tenantId).all();
  return results as { webhook_id: string; outcome: string }[];
}

describe("Security: Standard Webhooks signatures", () => {
  it("matches the specification's known answer", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const body = '{"test": 2432232314}';
    const expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    expect(await signWebhook(secret, id, "1614265330", body)).toBe(expected);
    const headers = { id, timestamp: "1614265330", signature: `v1,bm9wZQ== ${expected}` };
    expect(await verifyWebhook([secret], headers, body, 1614265330)).toBe("ok");
    expect(await verifyWebhook([secret], headers, body + " ", 1614265330)).toBe("bad_signature");
    expect(await verifyWebhook([secret], headers, body, 1614265330 + 301)).toBe("bad_timestamp");
  });

  it("a bad signature, a missing header, an old or future timestamp, another tenant's secret or an unknown tenant → 401", async () => {
    const t = await createTenant();
    const other = await createTenant();
    const event = userEvent("user.created", ada);
    const now = Math.floor(Date.now() / 1000);
    const cases: Response[] = [
      await sendWebhook(t, event, { headers: { "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" } }),
      await sendWebhook(t, event, { secret: other.webhookSecret }),
      await sendWebhook(t, event, { timestamp: now - 6 * 60 }),
      await sendWebhook(t, event, { timestamp: now + 6 * 60 }),
      await sendWebhook({ id: "ten_doesnotexist", webhookSecret: t.webhookSecret }, event),
    ];
    for (const header of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      const body = JSON.stringify(event);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "webhook-id": "msg_1",
        "webhook-timestamp": String(now),
        "webhook-signature": await signWebhook(t.webhookSecret, "msg_1", String(now), body),
      };
      delete headers[header];
      cases.push(await call(`/webhooks/${t.id}`, { method: "POST", body, headers }));
    }
    for (const res of cases) {
      expect(res.status).toBe(401);
      expect((await problem(res)).status).toBe(401);
    }
    expect(await userRow(t.id, ada.id)).toBeNull();
    expect(await webhookRows(t.id)).toEqual([]);
  });

  it("the signature covers the raw bytes: re-spaced JSON with the old signature is refused", async () => {
    const t = await createTenant();
    const body = JSON.stringify(userEvent("user.created", ada));
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = await signWebhook(t.webhookSecret, "msg_raw", ts, body);
    const res = await call(`/webhooks/${t.id}`, {
      method: "POST",
      body: JSON.stringify(JSON.parse(body), null, 2),
      headers: { "content-type": "application/json", "webhook-id": "msg_raw", "webhook-timestamp": ts, "webhook-signature": signature },
    });
    expect(res.status).toBe(401);
  });

  it("after rotation both secrets work during the grace period", async () => {
    const t = await createTenant();
    expect((await sendWebhook(t, userEvent("user.created", ada))).status).toBe(202);
    const rotated = await call("/v1/secrets/rotate", { method: "POST", json: { which: "webhookSecret" }, token: t.apiKey });
    const { value: newSecret, previousValidUntil } = (await rotated.json()) as { value: string; previousValidUntil: string };
    expect(Date.parse(previousValidUntil) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    expect((await sendWebhook(t, userEvent("user.updated", ada))).status).toBe(202);
    expect((await sendWebhook(t, userEvent("user.updated", ada), { secret: newSecret })).status).toBe(202);
  });

  it("once the grace period is over only the new secret works", async () => {
    const t = await createTenant();
    const rotated = await call("/v1/secrets/rotate", { method: "POST", json: { which: "webhookSecret" }, token: t.apiKey });
    const { value: newSecret } = (await rotated.json()) as { value: string };
    // The grace period ends: the old secret's expiry passes.
    await env.DB.prepare("UPDATE tenant_secrets SET expires_at = ? WHERE tenant_id = ? AND kind = 'webhook' AND expires_at IS NOT NULL")
      .bind(Date.now() - 1, t.id)
      .run();
    expect((await sendWebhook(t, userEvent("user.updated", ada))).status).toBe(401);
    expect((await sendWebhook(t, userEvent("user.updated", ada), { secret: newSecret })).status).toBe(202);
  });
});

describe("webhook answers", () => {
  it("202 once stored; the directory holds the user and the delivery is recorded", async () => {
    const t = await createTenant();
    const res = await sendWebhook(t, userEvent("user.created", { ...ada, dateOfBirth: "1815-12-10", attributes: { cohort: "2026" } }), { id: "msg_a" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true });
    const row = await userRow(t.id, ada.id);
    expect(row).toMatchObject({ email: "Ada@example.com", email_lower: "ada@example.com", status: "active", version: 1 });
    expect(JSON.parse(row!.profile)).toEqual({ role: "mentee", dateOfBirth: "1815-12-10", attributes: { cohort: "2026" } });
    expect(await webhookRows(t.id)).toEqual([{ webhook_id: "msg_a", outcome: "applied" }]);
  });

  it("the same webhook-id again → 200 duplicate and no second effect", async () => {
    const t = await createTenant();
    expect((await sendWebhook(t, userEvent("user.created", ada), { id: "msg_dup" })).status).toBe(202);
    const again = await sendWebhook(t, userEvent("user.updated", { ...ada, firstName: "Augusta" }), { id: "msg_dup" });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ accepted: true, duplicate: true });
    expect(await userRow(t.id, ada.id)).toMatchObject({ first_name: "Ada", version: 1 });
    expect(await webhookRows(t.id)).toHaveLength(1);
  });

  it("concurrent deliveries of one webhook-id apply once", async () => {
    const t = await createTenant();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => sendWebhook(t, userEvent("user.created", ada), { id: "msg_race" })),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(await userRow(t.id, ada.id)).toMatchObject({ version: 1 });
  });

  it("413 for a body over 256 KiB", async () => {
    const t = await createTenant();
    const res = await sendWebhook(t, userEvent("user.created", { ...ada, nickname: "x".repeat(300 * 1024) }));
    expect(res.status).toBe(413);
    expect(await userRow(t.id, ada.id)).toBeNull();
  });

  it("415 for a signed body that is not JSON; 400 for malformed JSON", async () => {
    const t = await createTenant();
    const wrongType = await sendWebhook(t, userEvent("user.created", ada), { contentType: "text/plain" });
    expect(wrongType.status).toBe(415);
    const malformed = await sendWebhook(t, null, { rawBody: '{"type": "user.created", ' });
    expect(malformed.status).toBe(400);
    expect((await problem(malformed)).title).toBe("Malformed JSON");
  });

  it("422 with the failing paths", async () => {
    const t = await createTenant();
    const res = await sendWebhook(
      t,
      userEvent("user.created", { id: "u_1", email: "not-an-email", dateOfBirth: "1990-02-30", favouriteColour: "blue", attributes: { ok: 5 } }),
    );
    expect(res.status).toBe(422);
    const paths = (await problem(res)).errors!.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["data.email", "data.dateOfBirth", "data.favouriteColour", "data.attributes.ok"]));
    const badType = await sendWebhook(t, { type: "user.exploded", timestamp: "yesterday", data: ada });
    expect(badType.status).toBe(422);
    expect((await problem(badType)).errors!.map((e) => e.path).sort()).toEqual(["timestamp", "type"]);
    const noEmail = await sendWebhook(t, userEvent("user.created", { id: "u_2" }));
    expect((await problem(noEmail)).errors!.map((e) => e.path)).toEqual(["data.email"]);
    expect(await webhookRows(t.id)).toEqual([]);
  });

  it("429 with Retry-After past the tenant's ingest limit, and other tenants are unaffected", async () => {
    const t = await createTenant();
    const other = await createTenant();
    let limited: Response | undefined;
    // The binding allows 1,000 changes per 10 s per tenant (wrangler.toml), in windows aligned
    // to the clock; invalid bodies still count. 2,500 requests always fill one window.
    for (let round = 0; round < 25 && !limited; round++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => sendWebhook(t, { type: "user.created" })));
      limited = answers.find((r) => r.status === 429);
      for (const r of answers) if (r.status !== 429) expect(r.status).toBe(422);
    }
    expect(limited).toBeDefined();
    expect(limited!.headers.get("retry-after")).toBe("10");
    expect((await problem(limited!)).status).toBe(429);
    expect((await sendWebhook(other, userEvent("user.created", ada))).status).toBe(202);
  });
});

describe("event semantics", () => {
  it("an event older than the stored version is recorded as stale and changes nothing", async () => {
    const t = await createTenant();
    await sendWebhook(t, userEvent("user.created", { ...ada, updatedAt: "2026-11-21T10:00:00Z" }));
    const stale = await sendWebhook(t, userEvent("user.updated", { ...ada, firstName: "Old", updatedAt: "2026-11-21T09:00:00Z" }), { id: "msg_old" });
    expect(stale.status).toBe(202);
    // Without data.updatedAt, the envelope's timestamp decides.
    await sendWebhook(t, userEvent("user.disabled", { id: ada.id }, "2026-11-21T09:30:00Z"), { id: "msg_old2" });
    expect(await userRow(t.id, ada.id)).toMatchObject({ first_name: "Ada", status: "active", version: 1 });
    const outcomes = await webhookRows(t.id);
    expect(outcomes.filter((o) => o.outcome === "stale").map((o) => o.webhook_id).sort()).toEqual(["msg_old", "msg_old2"]);
    const newer = await sendWebhook(t, userEvent("user.updated", { ...ada, firstName: "Augusta", updatedAt: "2026-11-21T11:00:00Z" }));
    expect(newer.status).toBe(202);
    expect(await userRow(t.id, ada.id)).toMatchObject({ first_name: "Augusta", version: 2 });
  });

  it("user.disabled sets the status, user.updated without a status keeps it, user.deleted marks the user deleted", async () => {
    const t = await createTenant();
    await sendWebhook(t, userEvent("user.created", ada));
    await sendWebhook(t, userEvent("user.disabled", { id: ada.id }));
    expect(await userRow(t.id, ada.id)).toMatchObject({ status: "disabled", email: ada.email, first_name: "Ada" });
    await sendWebhook(t, userEvent("user.updated", { ...ada, department: "Analytics" }));
    expect(await userRow(t.id, ada.id)).toMatchObject({ status: "disabled" });
    await sendWebhook(t, userEvent("user.deleted", { id: ada.id }));
    expect(await userRow(t.id, ada.id)).toMatchObject({ status: "deleted", version: 4 });
    const res = await call(`/v1/directory/users/${ada.id}`, { token: t.apiKey });
    expect(((await res.json()) as { status: string }).status).toBe("deleted");
  });

  it("user.deleted for a person the directory never held is recorded and ignored", async () => {
    const t = await createTenant();
    expect((await sendWebhook(t, userEvent("user.deleted", { id: "u_ghost" }), { id: "msg_ghost" })).status).toBe(202);
    expect(await userRow(t.id, "u_ghost")).toBeNull();
    expect(await webhookRows(t.id)).toEqual([{ webhook_id: "msg_ghost", outcome: "ignored" }]);
  });
});

async function deliver(envOverride: Partial<Cloudflare.Env>, tenant: { id: string; webhookSecret: string }, event: unknown) {
  const body = JSON.stringify(event);
  const id = `msg_${crypto.randomUUID()}`;
  const ts = String(Math.floor(Date.now() / 1000));
  const ctx = createExecutionContext();
  const res = await createApp().request(
    `/webhooks/${tenant.id}`,
    {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": await signWebhook(tenant.webhookSecret, id, ts, body) },
    },
    { ...env, ...envOverride },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/** Waits until this isolate is out of any burst (at most a quarter of a second). */
async function quietIsolate(tenantId: string) {
  while (tenantBursts.busy(tenantId)) await new Promise((r) => setTimeout(r, 20));
}

describe("jobs", () => {
  it("a lone accepted event: one sendBatch with one job per active integration, none for deactivated or pending ones", async () => {
    const t = await createTenant();
    const a = await insertIntegration(t.id, "active");
    const b = await insertIntegration(t.id, "active", "zoho-connect");
    const deactivated = await insertIntegration(t.id, "deactivated");
    const pending = await insertIntegration(t.id, "pending");
    const observed = observedQueue(env.JOBS);

    // A change that arrives alone goes to JOBS; earlier tests may have left the isolate in a burst.
    await quietIsolate(t.id);
    expect((await deliver({ JOBS: observed.queue }, t, userEvent("user.created", ada))).status).toBe(202);
    expect(observed.sends()).toBe(0);
    expect(observed.batches).toHaveLength(1);
    expect(observed.batches[0]!.map((j) => (j.kind === "push" ? j.integrationId : null)).sort()).toEqual([a, b].sort());
    expect(observed.batches[0]![0]).toMatchObject({ kind: "push", tenantId: t.id, userId: ada.id, version: 1, reason: "webhook" });
    expect(await userRow(t.id, ada.id)).toMatchObject({ needs_push: 0 });

    // The real queue delivers them: the consumer marks each active integration's link pending.
    const linked = await eventually(async () => {
      const { results } = await env.DB.prepare("SELECT integration_id, status FROM links WHERE tenant_id = ?").bind(t.id).all();
      return results.length === 2 ? results : undefined;
    });
    expect(linked.map((l) => l.integration_id).sort()).toEqual([a, b].sort());
    expect(linked.every((l) => l.status === "pending")).toBe(true);
    expect(linked.map((l) => l.integration_id)).not.toContain(deactivated);
    expect(linked.map((l) => l.integration_id)).not.toContain(pending);

    // A duplicate delivery sends nothing more.
    const before = observed.batches.length;
    await sendWebhook(t, userEvent("user.updated", ada), { id: "msg_once" });
    await sendWebhook(t, userEvent("user.updated", ada), { id: "msg_once" });
    expect(observed.batches.length).toBe(before);
  });

  it("with no active integration nothing is enqueued and nothing is left to push", async () => {
    const t = await createTenant();
    await insertIntegration(t.id, "deactivated");
    const observed = observedQueue(env.JOBS);
    expect((await deliver({ JOBS: observed.queue }, t, userEvent("user.created", ada))).status).toBe(202);
    expect(observed.batches).toHaveLength(0);
    expect(await userRow(t.id, ada.id)).toMatchObject({ needs_push: 0 });
  });

  it("when the queue fails after the write, the change is still in D1 and the record stays marked for push", async () => {
    const t = await createTenant();
    await insertIntegration(t.id, "active");
    const failing = {
      send: () => Promise.reject(new Error("queue unavailable")),
      sendBatch: () => Promise.reject(new Error("queue unavailable")),
    } as unknown as Queue<JobMessage>;
    // Whichever queue the isolate's pace picks (a fast machine runs the earlier tests within
    // a burst, which sends to PUSH_BATCHES), the send fails: both queues fail here.
    for (let i = 0; i < 15; i++) tenantBursts.note("another-tenant");
    const res = await deliver({ JOBS: failing, PUSH_BATCHES: failing }, t, userEvent("user.created", ada));
    expect(res.status).toBe(202);
    expect(await userRow(t.id, ada.id)).toMatchObject({ email: ada.email, version: 1, needs_push: 1 });
    expect((await webhookRows(t.id))[0]?.outcome).toBe("applied");
  });
});
