import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createTenant, sendWebhook, userEvent } from "../helpers";

async function person(tenantId: string, id: string) {
  return env.DB.prepare("SELECT status, version FROM directory_users WHERE tenant_id = ? AND id = ?").bind(tenantId, id).first<{ status: string; version: number }>();
}

describe("14.3 a disable or delete that arrives before the create", () => {
  it("is remembered with its version, so the older create (a sender's retry) is stale and nobody is pushed", async () => {
    const t = await createTenant();
    for (const type of ["user.deleted", "user.disabled"] as const) {
      const id = `u_${type.split(".")[1]}`;
      const later = userEvent(type, { id }, "2026-11-21T10:05:00Z");
      expect((await sendWebhook(t, later)).status).toBe(202);
      const older = userEvent("user.created", { id, email: `${id}@early.example`, lastName: "Early" }, "2026-11-21T10:00:00Z");
      expect((await sendWebhook(t, older)).status).toBe(202);
      expect(await person(t.id, id)).toBeNull();
      expect((await call(`/v1/directory/users/${id}`, { token: t.apiKey })).status).toBe(404);
    }
    const { results } = await env.DB.prepare("SELECT user_id, type, outcome FROM webhook_events WHERE tenant_id = ? ORDER BY received_at").bind(t.id).all();
    expect(results).toEqual([
      { user_id: "u_deleted", type: "user.deleted", outcome: "ignored" },
      { user_id: "u_deleted", type: "user.created", outcome: "stale" },
      { user_id: "u_disabled", type: "user.disabled", outcome: "ignored" },
      { user_id: "u_disabled", type: "user.created", outcome: "stale" },
    ]);
  });

  it("a create newer than the remembered removal is applied", async () => {
    const t = await createTenant();
    await sendWebhook(t, userEvent("user.deleted", { id: "u_back" }, "2026-11-21T10:00:00Z"));
    expect((await sendWebhook(t, userEvent("user.created", { id: "u_back", email: "back@early.example" }, "2026-11-21T11:00:00Z"))).status).toBe(202);
    expect(await person(t.id, "u_back")).toMatchObject({ status: "active", version: 1 });
    // The REST API honours it too: an older PUT is a 409.
    await sendWebhook(t, userEvent("user.disabled", { id: "u_rest" }, "2026-11-21T10:00:00Z"));
    const put = await call("/v1/directory/users/u_rest", { method: "PUT", json: { email: "rest@early.example", updatedAt: "2026-11-21T09:00:00Z" }, token: t.apiKey });
    expect(put.status).toBe(409);
  });
});
