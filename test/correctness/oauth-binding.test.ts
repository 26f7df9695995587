import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant, problem, sessionCookie, type TestTenant } from "../helpers";
import { calls, emu, resetEmulator } from "../emulators/helpers";
import { connectThroughProvider, createIntegration, credentialRow } from "../integrations/helpers";
import { initialResyncSettled } from "../sync/helpers";

beforeEach(() => resetEmulator(false));


/** The callback a consent to a dashboard connect sends the browser to (not yet followed). */
async function dashboardCallback(t: TestTenant, integrationId: string, cookie: string): Promise<string> {
  const consent = new URL((await call(`/connect/${integrationId}`, { headers: { cookie } })).headers.get("location")!);
  consent.searchParams.set("auto_approve", "1");
  consent.searchParams.set("login_hint", "admin@acme.example");
  const callback = new URL((await fetch(consent, { redirect: "manual" })).headers.get("location")!);
  return `${callback.pathname}${callback.search}`;
}

describe("Security (14.11): an OAuth state started from the dashboard is bound to that browser's session", () => {
  it("its callback is refused without that session (another browser, another person), and nothing is stored", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const mine = await sessionCookie(t);
    for (const headers of [{}, { cookie: await sessionCookie(t, { sub: "someone-else" }) }] as Record<string, string>[]) {
      const path = await dashboardCallback(t, i.id, mine);
      const res = await call(path, { headers });
      expect(res.status).toBe(400);
      expect((await problem(res)).detail).toContain("browser");
      expect(await credentialRow(i.id)).toBeNull();
    }
    const ok = await call(await dashboardCallback(t, i.id, mine), { headers: { cookie: mine } });
    expect(ok.status).toBe(302);
    expect(await credentialRow(i.id)).not.toBeNull();
  });
});

/** A connect through the API's authorizeUrl (as a host app sends its admin), and the page its callback lands on in a browser without a session. */
async function connectedThroughApi(t: TestTenant, integrationId: string, account: string) {
  const { result } = await connectThroughProvider(t, integrationId, account);
  expect(result.status).toBe(302);
  const landing = new URL(result.headers.get("location")!);
  const page = await call(`${landing.pathname}${landing.search}`);
  expect(page.status).toBe(200);
  return { html: await page.text(), note: landing.searchParams.get("connected")! };
}

async function disown(note: string) {
  return call("/oauth/disown", { method: "POST", body: new URLSearchParams({ connected: note }), headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://hub.test" } });
}

describe("Security (14.11): every connect names the account it connected and can be disowned at once", () => {
  it("the landing page and the integration name the tenant, the org and the e-mail; 'This wasn't me' disconnects and revokes", async () => {
    const t = await createTenant("Tenant Who Asked");
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const { html, note } = await connectedThroughApi(t, i.id, "admin@acme-eu.example");
    expect(html).toContain("Tenant Who Asked");
    expect(html).toContain("admin@acme-eu.example");
    expect(html).toContain("Acme Europe GmbH");
    expect(html).toMatch(/<form[^>]+action="\/oauth\/disown"[\s\S]*This wasn(’|')t me/);
    const view = (await (await call(`/v1/integrations/${i.id}`, { token: t.apiKey })).json()) as { connection: Record<string, unknown> };
    expect(view.connection).toMatchObject({ accountEmail: "admin@acme-eu.example", orgName: "Acme Europe GmbH", orgId: "800000001" });
    const dashboard = await call(`/dashboard/integrations/${i.id}`, { headers: { cookie: await sessionCookie(t) } });
    expect(await dashboard.text()).toMatch(/admin@acme-eu\.example[\s\S]*Acme Europe GmbH \(800000001\)/);
    await initialResyncSettled(i.id);

    await emu("/_emulator/calls", { method: "DELETE" });
    const res = await disown(note);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("disconnected");
    expect((await calls()).calls["POST /zoho/eu/accounts/oauth/v2/token/revoke"]).toBe(1);
    expect(await credentialRow(i.id)).toBeNull();
    const after = (await (await call(`/v1/integrations/${i.id}`, { token: t.apiKey })).json()) as { status: string; pendingActions: string[]; lastError: string; connection: unknown };
    expect(after).toMatchObject({ status: "pending", pendingActions: ["connect"], connection: null });
    expect(after.lastError).toContain("admin@acme-eu.example");
  });

  it("a note of an earlier connect cannot disown a later one", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const { note } = await connectedThroughApi(t, i.id, "admin@acme.example");
    await initialResyncSettled(i.id);
    await connectedThroughApi(t, i.id, "admin@acme.example");
    await initialResyncSettled(i.id);
    const res = await disown(note);
    expect(res.status).toBe(409);
    expect(await credentialRow(i.id)).not.toBeNull();
    expect(await disown("forged")).toHaveProperty("status", 400);
  });
});
