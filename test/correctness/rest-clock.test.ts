import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createTenant, sendWebhook, userEvent } from "../helpers";

describe("14.13a a REST PUT without updatedAt does not claim the hub's clock", () => {
  it("a later webhook from a host whose clock runs a few seconds behind is applied, not dropped as stale", async () => {
    const t = await createTenant();
    const put = await call("/v1/directory/users/u_clock", { method: "PUT", json: { email: "clock@rest.example", lastName: "Rest" }, token: t.apiKey });
    expect(put.status).toBe(201);
    const behind = new Date(Date.now() - 5_000).toISOString();
    expect((await sendWebhook(t, userEvent("user.updated", { id: "u_clock", email: "clock@rest.example", lastName: "Webhook" }, behind))).status).toBe(202);
    const row = await env.DB.prepare("SELECT last_name, version FROM directory_users WHERE tenant_id = ? AND id = 'u_clock'").bind(t.id).first<{ last_name: string; version: number }>();
    expect(row).toEqual({ last_name: "Webhook", version: 2 });
  });

  it("a PUT with updatedAt still refuses an older one (409), and a PUT without it never goes back in time", async () => {
    const t = await createTenant();
    await call("/v1/directory/users/u_t", { method: "PUT", json: { email: "t@rest.example", updatedAt: "2026-11-21T10:00:00Z" }, token: t.apiKey });
    expect((await call("/v1/directory/users/u_t", { method: "PUT", json: { email: "t@rest.example", updatedAt: "2026-11-21T09:00:00Z" }, token: t.apiKey })).status).toBe(409);
    expect((await call("/v1/directory/users/u_t", { method: "PUT", json: { email: "t2@rest.example" }, token: t.apiKey })).status).toBe(200);
    // The stored source time stays the one the source gave: an event just after it still applies.
    expect((await sendWebhook(t, userEvent("user.updated", { id: "u_t", email: "t3@rest.example" }, "2026-11-21T10:00:01Z"))).status).toBe(202);
    const row = await env.DB.prepare("SELECT email, version FROM directory_users WHERE tenant_id = ? AND id = 'u_t'").bind(t.id).first();
    expect(row).toEqual({ email: "t3@rest.example", version: 3 });
  });
});
