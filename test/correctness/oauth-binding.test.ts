import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant, problem, sessionCookie, type TestTenant } from "../helpers";
import { resetEmulator } from "../emulators/helpers";
import { createIntegration, credentialRow } from "../integrations/helpers";

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
