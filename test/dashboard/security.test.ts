import { describe, expect, it } from "vitest";
import { call, createTenant, sessionCookie, ssoToken, staleSessionCookie, type TestTenant } from "../helpers";
import { connectThroughProvider, createIntegration } from "../integrations/helpers";

/** The dashboard as a browser asks for it. */
function page(path: string, cookie: string, init: { method?: string; form?: Record<string, string> } = {}) {
  return call(path, {
    method: init.method ?? "GET",
    headers: { cookie, accept: "text/html", ...(init.form ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
    ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
  });
}

/** The CSRF token the page's forms carry. */
async function csrfOf(cookie: string): Promise<string> {
  const html = await (await page("/dashboard", cookie)).text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error("no CSRF token on the page");
  return token;
}

async function tenantWithIntegration(name: string): Promise<{ t: TestTenant; cookie: string; integrationId: string }> {
  const t = await createTenant(name);
  const i = await createIntegration(t, { provider: "zoho-crm" });
  return { t, cookie: await sessionCookie(t), integrationId: i.id };
}

describe("Security: dashboard pages", () => {
  it("a form post without the CSRF token, or with a wrong one, is a 403 and changes nothing", async () => {
    const { t, cookie, integrationId } = await tenantWithIntegration("CSRF");
    for (const form of [{ provider: "zoho-people" }, { provider: "zoho-people", _csrf: "forged" }] as Record<string, string>[]) {
      const res = await page("/dashboard/integrations", cookie, { method: "POST", form });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain("nothing was changed");
    }
    // A token of another session does not do either.
    const other = await sessionCookie(t, { sub: "someone-else" });
    const foreign = await page(`/dashboard/integrations/${integrationId}/deactivate`, cookie, { method: "POST", form: { _csrf: await csrfOf(other) } });
    expect(foreign.status).toBe(403);
    const list = (await (await call("/v1/integrations", { token: t.apiKey })).json()) as { data: { provider: string }[] };
    expect(list.data.map((i) => i.provider)).toEqual(["zoho-crm"]);
    // With the page's own token it works.
    const ok = await page("/dashboard/integrations", cookie, { method: "POST", form: { provider: "zoho-people", _csrf: await csrfOf(cookie) } });
    expect(ok.status).toBe(303);
  });

  it("#29.10 a form body past 64 KiB is a 413 before anything reads it whole, with or without a token", async () => {
    const { cookie } = await tenantWithIntegration("Big form");
    const padding = "p".repeat(300 * 1024);
    for (const form of [{ provider: "zoho-people", padding }, { provider: "zoho-people", _csrf: await csrfOf(cookie), padding }] as Record<string, string>[]) {
      const res = await page("/dashboard/integrations", cookie, { method: "POST", form });
      expect(res.status).toBe(413);
    }
  });

  it("a file streamed to the Import page needs the CSRF token in x-csrf-token; with it the import is stored, as it is from the form without the page's script", async () => {
    const t = await createTenant("Upload");
    const cookie = await sessionCookie(t);
    const csv = "Email,First Name\nann@upload.example,Ann\n";
    const stream = (token?: string) =>
      call("/dashboard/imports", { method: "POST", headers: { cookie, accept: "application/json", "content-type": "text/csv", ...(token !== undefined ? { "x-csrf-token": token } : {}) }, body: csv });
    expect((await stream()).status).toBe(403);
    expect((await stream("forged")).status).toBe(403);
    const listed = async () => ((await (await call("/v1/imports", { token: t.apiKey })).json()) as { data: { id: string; rows: number }[] }).data;
    expect(await listed()).toEqual([]);
    const streamed = await stream(await csrfOf(cookie));
    expect(streamed.status).toBe(201);
    const { id, location } = (await streamed.json()) as { id: string; location: string };
    expect(location).toBe(`/dashboard/imports/${id}`);
    // Without the script the form posts multipart: the token rides in the form.
    const form = new FormData();
    form.set("_csrf", await csrfOf(cookie));
    form.set("file", new File([csv], "people.csv", { type: "text/csv" }));
    const posted = await call("/dashboard/imports", { method: "POST", headers: { cookie, accept: "text/html" }, body: form });
    expect(posted.status).toBe(303);
    expect((await listed()).map((i) => i.rows)).toEqual([1, 1]);
  });

  it("a session of tenant A cannot see or change tenant B's integration, people or runs (404)", async () => {
    const a = await tenantWithIntegration("Tenant A");
    const b = await tenantWithIntegration("Tenant B");
    await call("/v1/directory/users/u_bea", { method: "PUT", json: { id: "u_bea", email: "bea@b.example", firstName: "Bea" }, token: b.t.apiKey });
    const runs = (await (await call(`/v1/runs?integrationId=${b.integrationId}`, { token: b.t.apiKey })).json()) as { data: { id: string }[] };
    for (const path of [`/dashboard/integrations/${b.integrationId}`, `/dashboard/integrations/${b.integrationId}/unmatched`, `/dashboard/integrations/${b.integrationId}/logs`, `/dashboard/integrations/${b.integrationId}/delete`, "/dashboard/users/u_bea", ...runs.data.map((r) => `/dashboard/runs/${r.id}`)]) {
      expect((await page(path, a.cookie)).status, path).toBe(404);
    }
    const csrf = await csrfOf(a.cookie);
    for (const action of ["deactivate", "resync", "config"]) {
      expect((await page(`/dashboard/integrations/${b.integrationId}/${action}`, a.cookie, { method: "POST", form: { _csrf: csrf, section: "settings" } })).status, action).toBe(404);
    }
    const users = await (await page("/dashboard/users", a.cookie)).text();
    expect(users).not.toContain("bea@b.example");
    const overview = await (await page("/dashboard", a.cookie)).text();
    expect(overview).not.toContain(b.integrationId);
  });

  it("an expired or replayed sign-in token is refused, and no session is opened", async () => {
    const t = await createTenant("SSO");
    const token = await ssoToken(t);
    expect((await call(`/auth/sso?token=${token}`)).status).toBe(302);
    const replay = await call(`/auth/sso?token=${token}`);
    expect(replay.status).toBe(401);
    expect(replay.headers.get("set-cookie")).toBeNull();
    const expired = await ssoToken(t, { iat: Math.floor(Date.now() / 1000) - 600 }, -300);
    const late = await call(`/auth/sso?token=${expired}`);
    expect(late.status).toBe(401);
    expect(late.headers.get("set-cookie")).toBeNull();
  });

  it("the session cookie is HttpOnly, SameSite=Lax and scoped to the whole hub; without it a page asks to sign in from the app", async () => {
    const t = await createTenant("Cookie");
    const res = await call(`/auth/sso?token=${await ssoToken(t)}`);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^usersync_session=[\w.-]+; Max-Age=28800; Path=\/; HttpOnly; SameSite=Lax$/);
    // PUBLIC_URL is plain-http in the tests: no Secure flag, which browsers refuse on http.
    expect(cookie).not.toContain("Secure");
    const signedOut = await call("/dashboard", { headers: { accept: "text/html" } });
    expect(signedOut.status).toBe(401);
    expect(await signedOut.text()).toContain("Open the dashboard from your app");
    // Signing out forgets the cookie.
    const session = cookie.split(";")[0]!;
    const out = await page("/dashboard/sign-out", session, { method: "POST", form: { _csrf: await csrfOf(session) } });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/^usersync_session=; Max-Age=0; Path=\//);
  });

  it("a sensitive action after a sign-in older than 10 minutes sends the admin to the app's sign-in page, and back", async () => {
    const { t, cookie, integrationId } = await tenantWithIntegration("Fresh");
    await call("/v1/tenant", { method: "PATCH", json: { signInUrl: "https://app.example/usersync/sign-in" }, token: t.apiKey });
    const stale = await staleSessionCookie(t);
    const res = await page(`/dashboard/integrations/${integrationId}/delete`, stale, { method: "POST", form: { _csrf: await csrfOf(stale) } });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`https://app.example/usersync/sign-in?redirect=${encodeURIComponent(`/dashboard/integrations/${integrationId}/delete`)}`);
    expect((await call(`/v1/integrations/${integrationId}`, { token: t.apiKey })).status).toBe(200);
    // A fresh session deletes.
    const done = await page(`/dashboard/integrations/${integrationId}/delete`, cookie, { method: "POST", form: { _csrf: await csrfOf(cookie) } });
    expect(done.status).toBe(303);
    expect((await call(`/v1/integrations/${integrationId}`, { token: t.apiKey })).status).toBe(404);
  });
});

describe("#30 deactivating from the dashboard asks first and needs a recent sign-in, like deleting", () => {
  it("the button opens a confirmation; a stale session is sent to sign in again; a fresh one deactivates", async () => {
    const t = await createTenant("Deactivate");
    const i = await createIntegration(t, { provider: "zoho-crm" });
    await connectThroughProvider(t, i.id, "admin@acme.example");
    const cookie = await sessionCookie(t);
    const integrationPage = await (await page(`/dashboard/integrations/${i.id}`, cookie)).text();
    expect(integrationPage).toContain(`href="/dashboard/integrations/${i.id}/deactivate"`);
    const confirm = await (await page(`/dashboard/integrations/${i.id}/deactivate`, cookie)).text();
    expect(confirm).toContain("Deactivate Zoho CRM?");
    expect(confirm).toContain("keeps the connection, the settings, the links and the sync log");
    await call("/v1/tenant", { method: "PATCH", json: { signInUrl: "https://app.example/usersync/sign-in" }, token: t.apiKey });
    const stale = await staleSessionCookie(t);
    const refused = await page(`/dashboard/integrations/${i.id}/deactivate`, stale, { method: "POST", form: { _csrf: await csrfOf(stale) } });
    expect(refused.status).toBe(303);
    expect(refused.headers.get("location")).toBe(`https://app.example/usersync/sign-in?redirect=${encodeURIComponent(`/dashboard/integrations/${i.id}/deactivate`)}`);
    const status = async () => ((await (await call(`/v1/integrations/${i.id}`, { token: t.apiKey })).json()) as { status: string }).status;
    expect(await status()).toBe("active");
    const done = await page(`/dashboard/integrations/${i.id}/deactivate`, cookie, { method: "POST", form: { _csrf: await csrfOf(cookie) } });
    expect(done.status).toBe(303);
    expect(await status()).toBe("deactivated");
  });
});
