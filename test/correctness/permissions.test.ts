import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { ROUTE_PERMISSIONS } from "../../src/http/permissions";
import { call, createTenant, problem, sessionCookie } from "../helpers";


const BODIES: Record<string, unknown> = {
  "POST /v1/secrets/rotate": { which: "apiKey" },
  "PUT /v1/directory/users/:id": { email: "x@acme.example" },
  "POST /v1/integrations": { provider: "zoho-crm" },
  "PATCH /v1/integrations/:id": { name: "x" },
  "POST /v1/integrations/:id/resync": {},
  "PUT /v1/integrations/:id/links/:userId": { remoteId: "1" },
};

describe("Security (14.10): every route that changes something needs its permission", () => {
  it("every state-changing tenant route (the operator's aside) is in the permission table", () => {
    const routes = createApp()
      .routes.filter((r) => r.path.startsWith("/v1/") && !["GET", "ALL"].includes(r.method) && !["/v1/tenants", "/v1/tenants/:id"].includes(r.path))
      .map((r) => `${r.method} ${r.path}`);
    expect([...new Set(routes)].sort()).toEqual(Object.keys(ROUTE_PERMISSIONS).sort());
  });

  it("a session lacking the permission gets 403 on each, naming it; rotating secrets needs both", async () => {
    const t = await createTenant();
    const ids = { ":id": "int_someone", ":userId": "u_1" };
    for (const [route, needs] of Object.entries(ROUTE_PERMISSIONS)) {
      const [method, template] = route.split(" ") as [string, string];
      const path = template.replace(/:id|:userId/g, (m) => ids[m as keyof typeof ids]);
      for (const missing of needs) {
        const cookie = await sessionCookie(t, { sub: "host-user-2", permissions: ["manage_integrations", "manage_users"].filter((p) => p !== missing) });
        const res = await call(path, { method, headers: { cookie, origin: "http://hub.test" }, ...(BODIES[route] ? { json: BODIES[route] } : {}) });
        expect(res.status, `${route} without ${missing}`).toBe(403);
        expect((await problem(res)).detail).toContain(missing);
      }
    }
    // Nothing changed: the API key still works (it was not rotated), no integration was made.
    const list = await call("/v1/integrations", { token: t.apiKey });
    expect(((await list.json()) as { data: unknown[] }).data).toEqual([]);
  });

  it("with the permissions, a session may rotate a secret (a recent sign-in), and reads need none", async () => {
    const t = await createTenant();
    const none = await sessionCookie(t, { sub: "host-user-2", permissions: [] });
    expect((await call("/v1/integrations", { headers: { cookie: none } })).status).toBe(200);
    expect((await call("/v1/directory/users", { headers: { cookie: none } })).status).toBe(200);
    const both = await sessionCookie(t, { sub: "host-user-2", permissions: ["manage_integrations", "manage_users"] });
    const rotated = await call("/v1/secrets/rotate", { method: "POST", json: { which: "ssoSecret" }, headers: { cookie: both, origin: "http://hub.test" } });
    expect(rotated.status).toBe(200);
  });
});
