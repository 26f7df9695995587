import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant, cronTick, eventually, problem, type TestTenant } from "../helpers";
import { calls, emu, resetEmulator } from "../emulators/helpers";
import { connectedCrm, contacts, link, linkIn, logs, runSettled, send } from "./helpers";

// An empty CRM (no seeded contacts), so that counts and unmatched lists are exact.
beforeEach(() => resetEmulator(false));

/**
 * Changes directory people while the integration is deactivated, so that no job is made
 * for it (as when a webhook's push job never arrived), then marks it active again in D1:
 * activating through the API would start a resync of its own, which these tests start
 * by hand. Real D1 and the real queue throughout.
 */
async function changeWithoutJobs(t: TestTenant, integrationId: string, users: Record<string, unknown>[]) {
  expect((await call(`/v1/integrations/${integrationId}/deactivate`, { method: "POST", token: t.apiKey })).status).toBe(200);
  for (const user of users) {
    // `status: "deleted"` stands for a DELETE (a PUT takes only active or disabled).
    const res =
      user.status === "deleted"
        ? await call(`/v1/directory/users/${String(user.id)}`, { method: "DELETE", token: t.apiKey })
        : await call(`/v1/directory/users/${String(user.id)}`, { method: "PUT", json: user, token: t.apiKey });
    expect(res.status).toBeLessThan(300);
  }
  await env.DB.prepare("UPDATE integrations SET status = 'active' WHERE id = ?").bind(integrationId).run();
}

async function startRun(t: TestTenant, integrationId: string, kind: "resync" | "reconcile", body?: unknown) {
  const res = await call(`/v1/integrations/${integrationId}/${kind}`, { method: "POST", token: t.apiKey, ...(body ? { json: body } : {}) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { runId: string }).runId;
}

async function get<T>(t: TestTenant, path: string): Promise<T> {
  const res = await call(path, { token: t.apiKey });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

const person = (id: string, extra: Record<string, unknown> = {}) => ({ id, email: `${id}@hub.example`, firstName: id, lastName: "Person", department: "Ops", role: "mentee", ...extra });
const counts = (c: Partial<Record<string, number>>) => ({ created: 0, updated: 0, unchanged: 0, disabled: 0, excluded: 0, failed: 0, linked: 0, unmatched: 0, ...c });

describe("resync", () => {
  it("repairs changes whose jobs never arrived, and reports what it did", async () => {
    const { t, integrationId } = await connectedCrm();
    await send(t, "user.created", person("ada"));
    await send(t, "user.created", person("bob"));
    const ada = await linkIn(integrationId, "ada", ["synced"]);
    await linkIn(integrationId, "bob", ["synced"]);

    // Three changes that made no job: a new person, a changed one, a program manager.
    await changeWithoutJobs(t, integrationId, [person("cyd"), person("ada", { department: "Research" }), person("pm", { role: "program_manager" })]);
    expect((await contacts("cyd@hub.example")).count).toBe(0);

    const run = await runSettled(t, await startRun(t, integrationId, "resync"));
    expect(run).toMatchObject({ status: "done", kind: "resync", trigger: "api", counts: counts({ created: 1, updated: 1, excluded: 1 }) });
    expect((await contacts("cyd@hub.example")).records).toEqual([expect.objectContaining({ Last_Name: "Person" })]);
    expect((await contacts("ada@hub.example")).records).toEqual([expect.objectContaining({ id: ada.remote_id, Department: "Research" })]);
    expect((await link(integrationId, "pm"))?.status).toBe("excluded");

    // Nothing is due any more: the next resync makes no Zoho call.
    await emu("/_emulator/calls", { method: "DELETE" });
    const again = await runSettled(t, await startRun(t, integrationId, "resync"));
    expect(again).toMatchObject({ status: "done", counts: counts({}) });
    expect((await calls()).total).toBe(0);
  });

  it("answers 409 for a second resync while one is open, 422 for unknown people, 404 for another tenant", async () => {
    const { t, integrationId } = await connectedCrm();
    const other = await connectedCrm();
    expect((await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", token: other.t.apiKey })).status).toBe(404);
    const bad = await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", json: { userIds: ["nobody"] }, token: t.apiKey });
    expect(bad.status).toBe(422);
    expect((await problem(bad)).errors).toEqual([{ path: "userIds.0", message: "No directory user nobody." }]);
    await env.DB.prepare("INSERT INTO runs (id, tenant_id, integration_id, kind, status, trigger, started_at) VALUES ('run_open', ?, ?, 'resync', 'running', 'api', ?)")
      .bind(t.id, integrationId, Date.now())
      .run();
    const busy = await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", token: t.apiKey });
    expect(busy.status).toBe(409);
    expect((await problem(busy)).detail).toContain("run_open");
    expect((await call("/v1/runs/run_open", { token: other.t.apiKey })).status).toBe(404);
  });
});

describe("mass-change guard", () => {
  it("holds a run that would delete more than maxDisablePercent of the linked people; approval releases it, cancel ends another", async () => {
    const { t, integrationId } = await connectedCrm({ onDelete: "delete" });
    const ids = ["p1", "p2", "p3", "p4", "p5"];
    for (const id of ids) await send(t, "user.created", person(id));
    for (const id of ids) await linkIn(integrationId, id, ["synced"]);

    // Two of five deleted without jobs: 40% > 20%.
    await changeWithoutJobs(t, integrationId, [person("p1", { status: "deleted" }), person("p2", { status: "deleted" })]);
    const runId = await startRun(t, integrationId, "resync");
    const held = await runSettled(t, runId);
    expect(held.status).toBe("held");
    expect(held.detail).toContain("2 of 5 linked people (40%)");
    expect((await contacts()).count).toBe(5);

    // A held run blocks the next one of its kind.
    expect((await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", token: t.apiKey })).status).toBe(409);

    const approved = await call(`/v1/runs/${runId}/approve`, { method: "POST", token: t.apiKey });
    expect(approved.status).toBe(200);
    const done = await runSettled(t, runId);
    expect(done).toMatchObject({ status: "done", approved: true, detail: null, counts: counts({ disabled: 2 }) });
    expect((await contacts()).count).toBe(3);
    expect(await link(integrationId, "p1")).toBeNull();
    expect((await call(`/v1/runs/${runId}/approve`, { method: "POST", token: t.apiKey })).status).toBe(409);

    // Another mass disable, cancelled this time: nothing is deleted.
    await changeWithoutJobs(t, integrationId, [person("p3", { status: "deleted" })]);
    const second = await startRun(t, integrationId, "resync");
    expect((await runSettled(t, second)).status).toBe("held");
    const cancelled = await call(`/v1/runs/${second}/cancel`, { method: "POST", token: t.apiKey });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ status: "cancelled", detail: "Cancelled by an admin." });
    expect((await contacts()).count).toBe(3);
  });
});

describe("reconciliation", () => {
  it("re-creates a record deleted in Zoho and puts back a field edited there, naming it in the log", async () => {
    const { t, integrationId } = await connectedCrm();
    await send(t, "user.created", person("ada"));
    await send(t, "user.created", person("bob"));
    await send(t, "user.created", person("cyd"));
    const ada = await linkIn(integrationId, "ada", ["synced"]);
    const bob = await linkIn(integrationId, "bob", ["synced"]);
    await linkIn(integrationId, "cyd", ["synced"]);

    expect((await emu(`/_emulator/zoho/us/crm/Contacts/${ada.remote_id}`, { method: "DELETE" })).status).toBe(204);
    await emu(`/_emulator/zoho/us/crm/Contacts/${bob.remote_id}`, { method: "PATCH", json: { Department: "Edited by hand", Last_Name: "Changed" } });

    const run = await runSettled(t, await startRun(t, integrationId, "reconcile"));
    expect(run).toMatchObject({ status: "done", kind: "reconcile", counts: counts({ created: 1, updated: 1, unchanged: 1 }) });
    const recreated = await link(integrationId, "ada");
    expect(recreated?.status).toBe("synced");
    expect(recreated?.remote_id).not.toBe(ada.remote_id);
    expect((await contacts("ada@hub.example")).records).toEqual([expect.objectContaining({ id: recreated!.remote_id })]);
    expect((await contacts("bob@hub.example")).records).toEqual([expect.objectContaining({ id: bob.remote_id, Department: "Ops", Last_Name: "Person" })]);
    expect((await logs(integrationId, "bob")).at(-1)).toEqual({ action: "update", status: "ok", detail: "changed in Zoho, put back: Last_Name, Department" });
    expect((await logs(integrationId, "ada")).at(-1)).toEqual({ action: "create", status: "ok", detail: "the Zoho record was deleted in Zoho; created again" });

    // The API's log view says the same, newest first.
    const page = await get<{ data: { action: string; detail: string; userId: string }[] }>(t, `/v1/integrations/${integrationId}/logs?userId=bob&limit=1`);
    expect(page.data).toEqual([expect.objectContaining({ userId: "bob", action: "update", detail: "changed in Zoho, put back: Last_Name, Department" })]);
  });

  it("with onRemoteDelete mark, a record deleted in Zoho leaves the person unmatched instead", async () => {
    const { t, integrationId } = await connectedCrm({ onRemoteDelete: "mark" });
    await send(t, "user.created", person("ada"));
    const ada = await linkIn(integrationId, "ada", ["synced"]);
    await emu(`/_emulator/zoho/us/crm/Contacts/${ada.remote_id}`, { method: "DELETE" });
    const run = await runSettled(t, await startRun(t, integrationId, "reconcile"));
    expect(run).toMatchObject({ status: "done", counts: counts({ unmatched: 1 }) });
    expect(await link(integrationId, "ada")).toMatchObject({ status: "unmatched", remote_id: null });
    expect((await contacts()).count).toBe(0);
    // A later resync does not create it behind the admin's back.
    expect(await runSettled(t, await startRun(t, integrationId, "resync"))).toMatchObject({ counts: counts({}) });
    expect((await contacts()).count).toBe(0);
  });

  it("links an existing contact with the same e-mail instead of duplicating it; the rest is unmatched on both sides", async () => {
    const { t, integrationId } = await connectedCrm();
    await emu("/_emulator/zoho/us/crm/Contacts", {
      method: "POST",
      json: {
        records: [
          { id: "5725767000999000101", Email: "dan@hub.example", First_Name: "Dan", Last_Name: "Existing" },
          { id: "5725767000999000102", Email: "Eve@hub.example", First_Name: "Eve", Last_Name: "Twin" },
          { id: "5725767000999000103", Email: "stranger@elsewhere.example", First_Name: "Stan", Last_Name: "Ger" },
        ],
      },
    });
    // Dan's change made no job; Eve's push finds only a contact whose e-mail differs in case.
    await changeWithoutJobs(t, integrationId, [person("dan")]);
    await send(t, "user.created", person("eve"));
    await linkIn(integrationId, "eve", ["unmatched"]);

    const run = await runSettled(t, await startRun(t, integrationId, "reconcile"));
    expect(run).toMatchObject({ status: "done", counts: counts({ linked: 1, unmatched: 2 }) });
    expect(await link(integrationId, "dan")).toMatchObject({ status: "synced", remote_id: "5725767000999000101" });
    expect((await contacts("dan@hub.example")).records).toEqual([expect.objectContaining({ id: "5725767000999000101", Last_Name: "Person" })]);
    expect((await contacts()).count).toBe(3);

    const unmatched = await get<{ local: { id: string; reason: string }[]; remote: { remoteId: string; email: string; name: string; remoteUrl: string }[] }>(t, `/v1/integrations/${integrationId}/unmatched`);
    expect(unmatched.local).toEqual([expect.objectContaining({ id: "eve", reason: expect.stringContaining("different case") })]);
    expect(unmatched.remote).toEqual([
      { remoteId: "5725767000999000102", email: "Eve@hub.example", name: "Eve Twin", remoteUrl: expect.stringContaining("/tab/Contacts/5725767000999000102") },
      { remoteId: "5725767000999000103", email: "stranger@elsewhere.example", name: "Stan Ger", remoteUrl: expect.stringContaining("/tab/Contacts/5725767000999000103") },
    ]);

    // Manual mapping, as the telephony panel's dropdown does.
    const linked = await call(`/v1/integrations/${integrationId}/links/eve`, { method: "PUT", json: { remoteId: "5725767000999000102" }, token: t.apiKey });
    expect(linked.status).toBe(200);
    expect(await linked.json()).toMatchObject({ userId: "eve", email: "eve@hub.example", remoteId: "5725767000999000102", manual: "linked" });
    await linkIn(integrationId, "eve", ["synced"]);
    expect((await contacts()).records.find((r) => r.id === "5725767000999000102")).toMatchObject({ Email: "eve@hub.example", Last_Name: "Person" });
    const after = await get<{ local: unknown[]; remote: { remoteId: string }[] }>(t, `/v1/integrations/${integrationId}/unmatched`);
    expect(after.local).toEqual([]);
    expect(after.remote.map((r) => r.remoteId)).toEqual(["5725767000999000103"]);

    // A record linked to someone else: 409; an unknown record: 422.
    const taken = await call(`/v1/integrations/${integrationId}/links/dan`, { method: "PUT", json: { remoteId: "5725767000999000102" }, token: t.apiKey });
    expect(taken.status).toBe(409);
    expect((await problem(taken)).detail).toContain("eve");
    expect((await call(`/v1/integrations/${integrationId}/links/dan`, { method: "PUT", json: { remoteId: "5725767000000000001" }, token: t.apiKey })).status).toBe(422);

    // Unlink: the person stays unmatched, and a later change does not link them again.
    expect((await call(`/v1/integrations/${integrationId}/links/eve`, { method: "DELETE", token: t.apiKey })).status).toBe(204);
    expect(await link(integrationId, "eve")).toMatchObject({ status: "unmatched", remote_id: null });
    await send(t, "user.updated", person("eve", { department: "Moved" }));
    await eventually(async () => ((await logs(integrationId, "eve")).at(-1)?.detail?.startsWith("unlinked by hand;") ? true : undefined));
    expect(await link(integrationId, "eve")).toMatchObject({ status: "unmatched", remote_id: null });
    const unlinked = await get<{ remote: { remoteId: string }[] }>(t, `/v1/integrations/${integrationId}/unmatched`);
    expect(unlinked.remote.map((r) => r.remoteId)).toEqual(["5725767000999000102", "5725767000999000103"]);

    // The links listing filters by status.
    const list = await get<{ data: { userId: string; status: string }[] }>(t, `/v1/integrations/${integrationId}/links?status=synced`);
    expect(list.data.map((l) => l.userId)).toEqual(["dan"]);
  });

  it("pages through more records than one COQL call returns", async () => {
    const { t, integrationId } = await connectedCrm();
    // 2,300 contacts with no directory person: two pages, all unmatched, in two listing calls.
    const records = Array.from({ length: 2300 }, (_, i) => ({ Email: `r${i}@remote.example`, Last_Name: `R${i}` }));
    for (let i = 0; i < records.length; i += 500) await emu("/_emulator/zoho/us/crm/Contacts", { method: "POST", json: { records: records.slice(i, i + 500) } });
    await emu("/_emulator/calls", { method: "DELETE" });
    const run = await runSettled(t, await startRun(t, integrationId, "reconcile"));
    expect(run).toMatchObject({ status: "done", counts: counts({ unmatched: 2300 }) });
    expect((await calls()).calls).toMatchObject({ "POST /zoho/us/api/crm/v8/coql": 2 });
    const row = await env.DB.prepare("SELECT count(*) AS n FROM remote_unmatched WHERE integration_id = ?").bind(integrationId).first<{ n: number }>();
    expect(row?.n).toBe(2300);
  });
});

describe("cron dispatch", () => {
  it("a tick with several integrations due starts each one's resync and reconciliation once, even when ticks overlap", async () => {
    const a = await connectedCrm();
    const b = await connectedCrm();
    const c = await connectedCrm();
    const ours = [a.integrationId, b.integrationId, c.integrationId];
    // Integrations of other tests are not due; the resyncs that connecting started are not the cron's.
    await env.DB.prepare(`UPDATE integrations SET resync_due_at = ?1, reconcile_due_at = ?1 WHERE id NOT IN (?2, ?3, ?4)`)
      .bind(Date.now() + 86_400_000, ...ours)
      .run();

    await Promise.all([cronTick(), cronTick()]);
    await cronTick();

    const { results } = await env.DB.prepare(`SELECT integration_id, kind, trigger FROM runs WHERE integration_id IN (?, ?, ?) AND trigger = 'schedule' ORDER BY integration_id, kind`)
      .bind(...ours)
      .all<{ integration_id: string; kind: string; trigger: string }>();
    expect(results).toEqual(
      [...ours].sort().flatMap((id) => [
        { integration_id: id, kind: "reconcile", trigger: "schedule" },
        { integration_id: id, kind: "resync", trigger: "schedule" },
      ]),
    );
    // Every run finishes (the queue consumer does the work), and the next ones are due later.
    for (const id of ours) {
      const tenant = [a, b, c].find((x) => x.integrationId === id)!.t;
      const { results: runs } = await env.DB.prepare("SELECT id FROM runs WHERE integration_id = ?").bind(id).all<{ id: string }>();
      for (const r of runs) expect((await runSettled(tenant, r.id)).status).toBe("done");
    }
    const due = await env.DB.prepare("SELECT resync_due_at AS r, reconcile_due_at AS c FROM integrations WHERE id = ?").bind(a.integrationId).first<{ r: number; c: number }>();
    expect(due!.r - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(due!.c - Date.now()).toBeGreaterThan(23 * 3600_000);
  });

  it("integrations that are not due never crowd a due one out of the tick's 200", async () => {
    const filler = await createTenant();
    const later = Date.now() + 86_400_000;
    await env.DB.prepare("UPDATE integrations SET resync_due_at = ?1, reconcile_due_at = ?1, pull_due_at = ?1, full_pull_due_at = ?1").bind(later).run();
    // 200 active push integrations, none of them due: their resync and reconciliation are a day away.
    const rows = Array.from({ length: 200 }, (_, i) => `('int_filler${i}_${filler.id.slice(-6)}', '${filler.id}', 'zoho-crm', 'filler', 'active', '[]', '{}', ${later}, ${later}, ${Date.now()}, ${Date.now()})`);
    for (let i = 0; i < rows.length; i += 50) {
      await env.DB.prepare(`INSERT INTO integrations (id, tenant_id, provider, name, status, pending_actions, config, resync_due_at, reconcile_due_at, created_at, updated_at) VALUES ${rows.slice(i, i + 50).join(", ")}`).run();
    }
    const due = await connectedCrm();
    await cronTick();
    const started = await env.DB.prepare("SELECT kind FROM runs WHERE integration_id = ? AND trigger = 'schedule' ORDER BY kind").bind(due.integrationId).all<{ kind: string }>();
    expect(started.results.map((r) => r.kind)).toEqual(["reconcile", "resync"]);
  });

  it("sources whose full pull is off are not due at every tick, and so never crowd a due integration out", async () => {
    const filler = await createTenant();
    const later = Date.now() + 86_400_000;
    await env.DB.prepare("UPDATE integrations SET resync_due_at = ?1, reconcile_due_at = ?1, pull_due_at = ?1, full_pull_due_at = ?1").bind(later).run();
    // 200 connected Zoho People sources: incremental pulls a day away, full pulls off.
    const connection = JSON.stringify({ accountsServer: "https://accounts.zoho.com", apiDomain: "https://www.zohoapis.com", dataCenter: "us", directoryId: null, scopes: ["ZOHOPEOPLE.forms.READ"], connectedAt: new Date().toISOString() });
    const config = JSON.stringify({ schedule: { resyncMinutes: 15, reconcile: "off", pullMinutes: 15, fullPull: "off" } });
    const rows = Array.from({ length: 200 }, (_, i) => `('int_source${i}_${filler.id.slice(-6)}', '${filler.id}', 'zoho-people', 'source', 'active', '[]', '${config}', '${connection}', 0, ${later}, ${Date.now() - 1}, ${Date.now()}, ${Date.now()})`);
    for (let i = 0; i < rows.length; i += 50) {
      await env.DB.prepare(
        `INSERT INTO integrations (id, tenant_id, provider, name, status, pending_actions, config, connection, receives_pushes, pull_due_at, full_pull_due_at, created_at, updated_at) VALUES ${rows.slice(i, i + 50).join(", ")}`,
      ).run();
    }
    const due = await connectedCrm();
    // The first tick may spend itself on the sources; from the second, they are not due.
    await cronTick();
    await env.DB.prepare("DELETE FROM runs WHERE integration_id = ?").bind(due.integrationId).run();
    await env.DB.prepare("UPDATE integrations SET resync_due_at = NULL, reconcile_due_at = NULL WHERE id = ?").bind(due.integrationId).run();
    await cronTick();
    const started = await env.DB.prepare("SELECT kind FROM runs WHERE integration_id = ? AND trigger = 'schedule' ORDER BY kind").bind(due.integrationId).all<{ kind: string }>();
    expect(started.results.map((r) => r.kind)).toEqual(["reconcile", "resync"]);
    await env.DB.prepare("UPDATE integrations SET status = 'deactivated' WHERE tenant_id = ?").bind(filler.id).run();
  });
});
