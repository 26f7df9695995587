import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant, OPERATOR_TOKEN, problem, sessionCookie } from "../helpers";
import { connectThroughProvider, createIntegration } from "./helpers";
import { resetEmulator } from "../emulators/helpers";

beforeEach(() => resetEmulator());

const providerIds = async (apiKey: string) => ((await (await call("/v1/providers", { token: apiKey })).json()) as { id: string }[]).map((p) => p.id);
const choose = (tenantId: string, providers: string[] | null, token = OPERATOR_TOKEN) => call(`/v1/tenants/${tenantId}`, { method: "PATCH", json: { providers }, token });

describe("#30 the operator chooses which providers each tenant may enable", () => {
  it("by default every provider; once chosen, GET /v1/providers shows only those, and enabling another is 403", async () => {
    const t = await createTenant();
    const other = await createTenant();
    expect(await providerIds(t.apiKey)).toEqual(["zoho-crm", "zoho-connect", "zoho-people", "microsoft-365"]);
    const res = await choose(t.id, ["zoho-people", "zoho-crm", "zoho-crm"]);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: t.id, providers: ["zoho-crm", "zoho-people"] });
    expect(await providerIds(t.apiKey)).toEqual(["zoho-crm", "zoho-people"]);
    // Another tenant is untouched.
    expect(await providerIds(other.apiKey)).toHaveLength(4);
    const refused = await call("/v1/integrations", { method: "POST", json: { provider: "zoho-connect" }, token: t.apiKey });
    expect(refused.status).toBe(403);
    expect((await problem(refused)).detail).toContain("Zoho Connect is not enabled for this organisation");
    expect((await createIntegration(t, { provider: "zoho-crm" })).status).toBe("pending");
    // null allows every provider again.
    expect((await choose(t.id, null)).status).toBe(200);
    expect(await providerIds(t.apiKey)).toHaveLength(4);
  });

  it("an integration kept after its provider is taken away keeps running, but cannot be activated again", async () => {
    const t = await createTenant();
    const crm = await createIntegration(t, { provider: "zoho-crm" });
    await connectThroughProvider(t, crm.id, "admin@acme.example");
    expect((await call(`/v1/integrations/${crm.id}/deactivate`, { method: "POST", token: t.apiKey })).status).toBe(200);
    await choose(t.id, ["zoho-people"]);
    expect((await call(`/v1/integrations/${crm.id}`, { token: t.apiKey })).status).toBe(200);
    const activate = await call(`/v1/integrations/${crm.id}/activate`, { method: "POST", token: t.apiKey });
    expect(activate.status).toBe(403);
  });

  it("a pending integration whose provider is taken away can be neither connected nor finish a connect started before", async () => {
    const t = await createTenant();
    const early = await createIntegration(t, { provider: "zoho-crm" });
    const late = await createIntegration(t, { provider: "zoho-crm" });
    // A connect started while the provider was allowed…
    const started = await call(`/v1/integrations/${early.id}/connect`, { method: "POST", token: t.apiKey });
    expect(started.status).toBe(200);
    await choose(t.id, ["zoho-people"]);
    // …and one started after.
    const refused = await call(`/v1/integrations/${late.id}/connect`, { method: "POST", token: t.apiKey });
    expect(refused.status).toBe(403);
    // The first one's callback stores nothing: the integration is still waiting for a connect.
    const consent = new URL(((await started.json()) as { authorizeUrl: string }).authorizeUrl);
    consent.searchParams.set("auto_approve", "1");
    consent.searchParams.set("login_hint", "admin@acme.example");
    let answer = await fetch(consent, { redirect: "manual" });
    while (answer.status === 302 && !answer.headers.get("location")!.startsWith("http://hub.test/")) answer = await fetch(answer.headers.get("location")!, { redirect: "manual" });
    const callback = new URL(answer.headers.get("location")!);
    expect((await call(`${callback.pathname}${callback.search}`)).status).toBe(403);
    const after = (await (await call(`/v1/integrations/${early.id}`, { token: t.apiKey })).json()) as { status: string; connection: unknown };
    expect(after).toMatchObject({ status: "pending", connection: null });
  });

  it("only the operator may choose: a tenant's key is 401, an unknown tenant 404, an unknown provider 422", async () => {
    const t = await createTenant();
    expect((await choose(t.id, ["zoho-crm"], t.apiKey)).status).toBe(401);
    expect((await choose("ten_nobody", ["zoho-crm"])).status).toBe(404);
    const bad = await choose(t.id, ["salesforce"]);
    expect(bad.status).toBe(422);
    expect((await problem(bad)).errors![0]!.path).toBe("providers.0");
  });

  it("the dashboard offers only the providers the tenant may enable", async () => {
    const t = await createTenant();
    await choose(t.id, ["zoho-people"]);
    const page = await (await call("/dashboard", { headers: { cookie: await sessionCookie(t) } })).text();
    expect(page).toContain("Enable Zoho People");
    expect(page).not.toContain("Enable Zoho CRM");
    expect(page).not.toContain("Enable Microsoft 365");
  });
});
