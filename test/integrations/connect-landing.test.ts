import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant, problem, sessionCookie, type TestTenant } from "../helpers";
import { resetEmulator } from "../emulators/helpers";
import { contacts, linkIn, runSettled } from "../sync/helpers";
import { connectThroughProvider, createIntegration } from "./helpers";

beforeEach(() => resetEmulator(false));

const person = (id: string) => ({ email: `${id}@first.example`, firstName: id, lastName: "Early" });

async function runsOf(t: TestTenant, query: string) {
  const res = await call(`/v1/runs?${query}`, { token: t.apiKey });
  expect(res.status).toBe(200);
  return (await res.json()) as { data: { id: string; kind: string; trigger: string; status: string; counts: Record<string, number> }[]; nextCursor: string | null };
}


describe("connecting pushes the people already in the directory at once", () => {
  it("the callback starts a resync run the admin can watch; the people reach Zoho without a cron tick", async () => {
    const t = await createTenant();
    for (const id of ["ann", "ben", "cat"]) expect((await call(`/v1/directory/users/${id}`, { method: "PUT", json: person(id), token: t.apiKey })).status).toBe(201);
    const i = await createIntegration(t, { provider: "zoho-crm" });
    expect((await runsOf(t, `integrationId=${i.id}`)).data).toEqual([]);

    const { result } = await connectThroughProvider(t, i.id, "admin@acme.example");
    expect(result.status).toBe(302);
    const [run] = (await runsOf(t, `integrationId=${i.id}&kind=resync`)).data;
    expect(run).toMatchObject({ kind: "resync", trigger: "api" });
    expect(await runSettled(t, run!.id)).toMatchObject({ status: "done", counts: expect.objectContaining({ created: 3 }) });
    for (const id of ["ann", "ben", "cat"]) await linkIn(i.id, id, ["synced"]);
    expect((await contacts()).count).toBe(3);

    // The logs filter by action (API.md), as well as by person and status.
    const logs = async (query: string) => {
      const res = await call(`/v1/integrations/${i.id}/logs?${query}`, { token: t.apiKey });
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: { userId: string; action: string }[] }).data;
    };
    expect((await logs("action=create")).map((l) => l.userId).sort()).toEqual(["ann", "ben", "cat"]);
    expect(await logs("action=delete")).toEqual([]);
    expect((await logs("action=create&userId=ben")).map((l) => l.action)).toEqual(["create"]);
    expect((await call(`/v1/integrations/${i.id}/logs?action=explode`, { token: t.apiKey })).status).toBe(422);
  });

  it("activating a deactivated integration starts a resync of what changed meanwhile; a connect from the dashboard is marked so", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const cookie = await sessionCookie(t);
    // The dashboard's connect: the run it starts says so.
    const consent = await call(`/connect/${i.id}`, { headers: { cookie } });
    const start = new URL(consent.headers.get("location")!);
    start.searchParams.set("auto_approve", "1");
    start.searchParams.set("login_hint", "admin@acme.example");
    const callback = new URL((await fetch(start, { redirect: "manual" })).headers.get("location")!);
    expect((await call(`${callback.pathname}${callback.search}`, { headers: { cookie } })).status).toBe(302);
    const [first] = (await runsOf(t, `integrationId=${i.id}`)).data;
    expect(first).toMatchObject({ trigger: "dashboard" });
    await runSettled(t, first!.id);

    expect((await call(`/v1/integrations/${i.id}/deactivate`, { method: "POST", token: t.apiKey })).status).toBe(200);
    expect((await call("/v1/directory/users/dee", { method: "PUT", json: person("dee"), token: t.apiKey })).status).toBe(201);
    expect((await contacts()).count).toBe(0);
    expect((await call(`/v1/integrations/${i.id}/activate`, { method: "POST", token: t.apiKey })).status).toBe(200);
    const runs = (await runsOf(t, `integrationId=${i.id}&kind=resync`)).data;
    expect(runs.map((r) => r.trigger)).toEqual(["api", "dashboard"]);
    expect(await runSettled(t, runs[0]!.id)).toMatchObject({ status: "done", counts: expect.objectContaining({ created: 1 }) });
    await linkIn(i.id, "dee", ["synced"]);
  });
});

describe("where the browser lands after consent", () => {
  it("without a session: a readable page that says what was connected and what happens next", async () => {
    const t = await createTenant();
    expect((await call("/v1/directory/users/ann", { method: "PUT", json: person("ann"), token: t.apiKey })).status).toBe(201);
    const i = await createIntegration(t, { provider: "zoho-crm", name: "CRM for mentors" });
    const { result } = await connectThroughProvider(t, i.id, "admin@acme.example");
    const landing = new URL(result.headers.get("location")!);
    expect(landing.pathname).toBe(`/dashboard/integrations/${i.id}`);

    const page = await call(`${landing.pathname}${landing.search}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const text = await page.text();
    expect(text).toContain("<h1>Zoho CRM is connected</h1>");
    expect(text).toContain("Acme's integration <strong>CRM for mentors</strong> is active");
    expect(text).toContain(`${env.EMULATOR_URL}/zoho/us/accounts`);
    expect(text).toMatch(/<dt>Data centre<\/dt><dd>us<\/dd>/);
    const [run] = (await runsOf(t, `integrationId=${i.id}`)).data;
    expect(text).toContain(`run <code>${run!.id}</code>`);
  });

  it("Security: the page needs the callback's signed note; a tampered or foreign one is a 401 like no session", async () => {
    const t = await createTenant();
    const other = await createTenant("Other");
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const j = await createIntegration(other, { provider: "zoho-crm" });
    const { result } = await connectThroughProvider(t, i.id, "admin@acme.example");
    const note = new URL(result.headers.get("location")!).searchParams.get("connected")!;
    expect((await call(`/dashboard/integrations/${i.id}`)).status).toBe(401);
    expect((await call(`/dashboard/integrations/${i.id}?connected=${note.slice(0, -2)}xx`)).status).toBe(401);
    // A note for one integration shows nothing of another tenant's.
    const foreign = await call(`/dashboard/integrations/${j.id}?connected=${note}`);
    expect(foreign.status).toBe(401);
    expect((await problem(foreign)).type).toBe("/problems/unauthorized");
  });

  it("with a session of the tenant: the integration's own page", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const { result } = await connectThroughProvider(t, i.id, "admin@acme.example");
    const landing = new URL(result.headers.get("location")!);
    const page = await call(`${landing.pathname}${landing.search}`, { headers: { cookie: await sessionCookie(t) } });
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('<dd id="status">active</dd>');
    expect(text).not.toContain("is connected</h1>");
  });
});

describe("GET /v1/runs", () => {
  it("lists runs newest first with filters and a cursor; a cursor the hub did not issue is a 400", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    await connectThroughProvider(t, i.id, "admin@acme.example");
    const [initial] = (await runsOf(t, `integrationId=${i.id}`)).data;
    await runSettled(t, initial!.id);
    const reconcile = (await (await call(`/v1/integrations/${i.id}/reconcile`, { method: "POST", token: t.apiKey })).json()) as { runId: string };
    await runSettled(t, reconcile.runId);

    const all = await runsOf(t, "limit=1");
    expect(all.data.map((r) => r.id)).toEqual([reconcile.runId]);
    const next = await runsOf(t, `limit=1&cursor=${all.nextCursor}`);
    expect(next).toMatchObject({ data: [{ id: initial!.id, kind: "resync" }], nextCursor: null });
    expect((await runsOf(t, "kind=reconcile")).data.map((r) => r.id)).toEqual([reconcile.runId]);
    expect((await runsOf(t, "status=held")).data).toEqual([]);
    // Another tenant sees none of them.
    const other = await createTenant("Other");
    expect((await runsOf(other, "")).data).toEqual([]);

    for (const cursor of ["garbage", "eyJ4IjoxfQ", "%FF%FE"]) {
      const res = await call(`/v1/runs?cursor=${cursor}`, { token: t.apiKey });
      expect(res.status).toBe(400);
      expect((await problem(res)).detail).toContain("cursor");
    }
    expect((await call("/v1/runs?kind=nap", { token: t.apiKey })).status).toBe(422);
  });
});
