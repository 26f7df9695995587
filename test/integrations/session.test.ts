import { env } from "cloudflare:test";
import { SignJWT } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant, problem, ssoToken, type TestTenant, staleSessionCookie } from "../helpers";
import { EMU, resetEmulator } from "../emulators/helpers";
import { connectThroughProvider, createIntegration } from "./helpers";
import { csrfToken } from "../../src/auth/session";

beforeEach(() => resetEmulator());

const HUB = "http://hub.test";


async function signIn(t: TestTenant, claims: Record<string, unknown> = {}): Promise<string> {
  const res = await call(`/auth/sso?token=${await ssoToken(t, { redirect: "/dashboard/x", ...claims })}`);
  expect(res.status).toBe(302);
  expect(res.headers.get("location")).toBe("/dashboard/x");
  const cookie = res.headers.get("set-cookie")!;
  expect(cookie).toMatch(/usersync_session=.+; Max-Age=28800; Path=\/; HttpOnly; SameSite=Lax/);
  return cookie.split(";")[0]!;
}

describe("dashboard sign-in and connect", () => {
  it("an SSO token signed with the tenant's secret opens a session; GET /connect/{id} then redirects to the provider", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const cookie = await signIn(t);
    const res = await call(`/connect/${i.id}`, { headers: { cookie } });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")!.startsWith(`${EMU}/zoho/us/accounts/oauth/v2/auth?`)).toBe(true);
    // The same session works on the API, as the dashboard's own calls do.
    expect((await call(`/v1/integrations/${i.id}`, { headers: { cookie } })).status).toBe(200);
  });

  it("Security: a wrong secret, a lifetime over 5 minutes or an unknown tenant opens nothing", async () => {
    const t = await createTenant();
    const other = await createTenant();
    for (const token of [await ssoToken(t, {}, 120, other.ssoSecret), await ssoToken(t, {}, 600), await ssoToken(t, { tenant: "ten_nobody" }), "not-a-jwt"]) {
      const res = await call(`/auth/sso?token=${token}`);
      expect(res.status).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
    }
  });

  it("Security (14.12): the redirect is the token's `redirect` claim, only to the hub's own /dashboard pages; `next` is ignored", async () => {
    const t = await createTenant();
    const landing = async (claims: Record<string, unknown>, query = "") => (await call(`/auth/sso?token=${await ssoToken(t, claims)}${query}`)).headers.get("location");
    for (const evil of ["//evil.example/x", "/%09/evil.com", "/\\evil.example", "https://evil.example/dashboard", "/dashboardx/../../x", "/admin", "javascript:alert(1)"]) {
      expect(await landing({ redirect: evil }), evil).toBe("/dashboard");
    }
    expect(await landing({}, "&next=//evil.example/x")).toBe("/dashboard");
    expect(await landing({}, "&next=/%09/evil.com")).toBe("/dashboard");
    expect(await landing({ redirect: "/dashboard/integrations/int_1?tab=mapping" })).toBe("/dashboard/integrations/int_1?tab=mapping");
    expect(await landing({ redirect: "http://hub.test/dashboard/runs" })).toBe("/dashboard/runs");
  });

  it("Security (14.12): a sign-in token is single use, needs a jti, and may not be issued in the future", async () => {
    const t = await createTenant();
    const token = await ssoToken(t);
    expect((await call(`/auth/sso?token=${token}`)).status).toBe(302);
    const replay = await call(`/auth/sso?token=${token}`);
    expect(replay.status).toBe(401);
    expect(replay.headers.get("set-cookie")).toBeNull();
    expect((await call(`/auth/sso?token=${await ssoToken(t, { jti: undefined })}`)).status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    const future = await new SignJWT({ tenant: t.id, email: "a@b.example", jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("u")
      .setIssuedAt(now + 600)
      .setExpirationTime(now + 700)
      .sign(new TextEncoder().encode(t.ssoSecret));
    expect((await call(`/auth/sso?token=${future}`)).status).toBe(401);
  });

  it("without manage_integrations a session cannot connect or change integrations", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const cookie = await signIn(t, { permissions: ["manage_users"] });
    expect((await call(`/connect/${i.id}`, { headers: { cookie } })).status).toBe(403);
    expect((await call(`/v1/integrations/${i.id}`, { method: "PATCH", json: { name: "x" }, headers: { cookie, origin: HUB } })).status).toBe(403);
    expect((await call(`/connect/${i.id}`)).status).toBe(401);
  });

  it("a sensitive action with a sign-in older than 10 minutes answers 403 reauth-required", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const old = await staleSessionCookie(t, 11 * 60 * 1000, ["manage_integrations"]);
    const res = await call(`/v1/integrations/${i.id}`, { method: "DELETE", headers: { cookie: old, origin: HUB } });
    expect(res.status).toBe(403);
    expect((await problem(res)).type).toBe("/problems/reauth-required");
    const fresh = await signIn(t);
    expect((await call(`/v1/integrations/${i.id}`, { method: "DELETE", headers: { cookie: fresh, origin: HUB } })).status).toBe(204);
  });

  it("Security: a state-changing request with only the session cookie needs the hub's Origin or the CSRF token (403 otherwise)", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const cookie = await signIn(t);
    const patch = (headers: Record<string, string>) => call(`/v1/integrations/${i.id}`, { method: "PATCH", json: { name: "renamed" }, headers: { cookie, ...headers } });
    for (const headers of [{}, { origin: "https://evil.example" }, { origin: "null" }, { "x-csrf-token": "forged" }] as Record<string, string>[]) {
      const res = await patch(headers);
      expect(res.status).toBe(403);
      expect((await problem(res)).detail).toContain("CSRF");
    }
    expect((await call(`/v1/integrations/${i.id}`, { token: t.apiKey }).then((r) => r.json()) as { name: string }).name).toBe("Zoho CRM");
    expect((await patch({ origin: HUB })).status).toBe(200);
    const token = await csrfToken(env, cookie.slice(cookie.indexOf("=") + 1));
    expect((await patch({ "x-csrf-token": token })).status).toBe(200);
    // Reading needs neither; an API key is not a cookie and needs neither either.
    expect((await call(`/v1/integrations/${i.id}`, { headers: { cookie } })).status).toBe(200);
    expect((await call(`/v1/integrations/${i.id}`, { method: "PATCH", json: { name: "by key" }, token: t.apiKey })).status).toBe(200);
  });

  it("the callback lands on the integration's page, which shows its state", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm", name: "CRM for mentors" });
    const { result } = await connectThroughProvider(t, i.id, "admin@acme.example");
    const cookie = await signIn(t);
    const page = await call(new URL(result.headers.get("location")!).pathname, { headers: { cookie } });
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain("CRM for mentors");
    expect(text).toContain('<dd id="status">active</dd>');
  });
});
