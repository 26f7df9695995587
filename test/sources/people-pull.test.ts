import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { createDb } from "../../src/db/client";
import { getIntegration } from "../../src/integrations/store";
import { handleRunPage } from "../../src/runs/page";
import { call, createTenant, cronTick, eventually, moveClocks, recordingQueue, type TestTenant } from "../helpers";
import { emu, resetEmulator } from "../emulators/helpers";
import { connectThroughProvider, createIntegration } from "../integrations/helpers";
import { contacts, initialResyncSettled, link, runSettled } from "../sync/helpers";

interface Served {
  query: Record<string, string>;
  returned: number;
  at: number;
}
interface Throttle {
  perMinute: number;
  locks: number;
  served: Served[];
}

const throttle = async (set?: Record<string, number>) =>
  (await (set ? emu("/_emulator/zoho/people-throttle", { method: "PUT", json: set }) : emu("/_emulator/zoho/people-throttle"))).json() as Promise<Throttle>;

/** The last pull run of an integration, once it has ended. */
async function lastPull(t: TestTenant, integrationId: string, timeoutMs = 20_000) {
  const run = await eventually(async () => {
    const list = (await (await call(`/v1/runs?integrationId=${integrationId}&kind=pull`, { token: t.apiKey })).json()) as { data: { id: string; status: string }[] };
    return list.data[0];
  });
  return runSettled(t, run.id, timeoutMs);
}

async function user(t: TestTenant, id: string) {
  const res = await call(`/v1/directory/users/${encodeURIComponent(id)}`, { token: t.apiKey });
  return res.status === 200 ? ((await res.json()) as Record<string, any>) : null;
}

/** A tenant with a connected Zoho People integration whose first (full) pull has ended. */
async function connectedPeople(config: Record<string, unknown> = {}, t?: TestTenant) {
  const tenant = t ?? (await createTenant());
  const i = await createIntegration(tenant, { provider: "zoho-people", config });
  await connectThroughProvider(tenant, i.id, "admin@acme.example");
  const first = await lastPull(tenant, i.id, 60_000);
  return { t: tenant, integrationId: i.id, first };
}

/** Starts an incremental pull now, through the schedule. */
async function incrementalPull(t: TestTenant, integrationId: string) {
  await env.DB.prepare("UPDATE integrations SET pull_due_at = 0 WHERE id = ?").bind(integrationId).run();
  const before = (await throttle()).served.length;
  await cronTick();
  await eventually(async () => ((await throttle()).served.length > before ? true : undefined));
  return lastPull(t, integrationId);
}

/**
 * A full pull started through the API, its pages delivered here one after another as the
 * queue would; a page sent with a delay (a throttle or a lock waited out) is delivered
 * after moving the hub's and the emulator's clocks by that delay, not after waiting it.
 */
async function fullPullByHand(t: TestTenant, integrationId: string) {
  const q = recordingQueue();
  const kept = { ...env, JOBS: q.queue, PUSH_BATCHES: q.queue };
  const ctx = createExecutionContext();
  const res = await createApp().request(`/v1/integrations/${integrationId}/resync`, { method: "POST", headers: { authorization: `Bearer ${t.apiKey}`, "content-type": "application/json" }, body: "{}" }, kept, ctx);
  await waitOnExecutionContext(ctx);
  const answer = (await res.json()) as { runId: string };
  if (res.status !== 202) throw new Error(`the resync was refused: ${res.status} ${JSON.stringify(answer)}`);
  const { runId } = answer;
  const db = createDb(env.DB);
  let waited = 0;
  for (let next = q.take("run"); next; next = q.take("run")) {
    if (next.delaySeconds) {
      waited += next.delaySeconds;
      await moveClocks(next.delaySeconds * 1000);
    }
    await handleRunPage(db, kept, next.body, (await getIntegration(db, t.id, integrationId))!);
  }
  return { run: await runSettled(t, runId), waitedSeconds: waited };
}

beforeEach(() => resetEmulator());

describe("Zoho People pull", () => {
  it("a full pull takes every employee with the People fields, then an incremental one fetches only the changed", async () => {
    const { t, integrationId, first } = await connectedPeople();
    // 250 seeded employees, 5 of them not Active: 245 created active, 5 disabled; two getRecords pages.
    expect(first).toMatchObject({ status: "done" });
    const served = (await throttle()).served;
    expect(served.map((s) => [s.query.sIndex, s.query.modifiedtime ?? null, s.returned])).toEqual([
      ["1", null, 200],
      ["201", null, 50],
    ]);
    const ada = await user(t, "E0001");
    expect(ada).toMatchObject({
      email: "ada.lovelace@acme.example",
      status: "active",
      // "01-Jan-1970" in the organisation's format dd-MMM-yyyy.
      dateOfBirth: "1970-01-01",
      seatingLocation: "Floor 1",
      workPhone: "+44 20 7946 0000",
      extension: "1000",
      gender: "Male",
    });
    const second = await user(t, "E0002");
    expect(second).toMatchObject({ reportingTo: "ada.lovelace@acme.example", dateOfBirth: "1971-01-02" });
    // Not Active and never in the directory: remembered as gone, not created, and not linked.
    expect(await user(t, "E0050")).toBeNull();
    expect(await link(integrationId, "E0050")).toBeNull();
    expect(first).toMatchObject({ counts: { created: 245, unchanged: 5, disabled: 0 } });
    expect(await link(integrationId, "E0001")).toMatchObject({ status: "synced", remote_id: "412762000000000000" });

    // One employee changes department; the next pull asks only for what changed since.
    await emu("/_emulator/zoho/people/E0002", { method: "PUT", json: { Department: "Research" } });
    const run = await incrementalPull(t, integrationId);
    expect(run).toMatchObject({ status: "done", counts: { updated: 1, created: 0 } });
    const last = (await throttle()).served.at(-1)!;
    expect(last.query.modifiedtime).toBeDefined();
    expect(last.returned).toBe(1);
    expect((await user(t, "E0002"))!.department).toBe("Research");
  });

  it("an employee who resigns is disabled by the incremental pull; one who vanished is disabled by the full pull, never deleted", async () => {
    const { t, integrationId } = await connectedPeople();
    await emu("/_emulator/zoho/people/E0003", { method: "PUT", json: { Employeestatus: "Resigned" } });
    await incrementalPull(t, integrationId);
    expect((await user(t, "E0003"))!.status).toBe("disabled");

    await emu("/_emulator/zoho/people/E0004", { method: "DELETE" });
    // An incremental pull cannot see who is gone: E0004 stays.
    await incrementalPull(t, integrationId);
    expect((await user(t, "E0004"))!.status).toBe("active");
    const res = await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", json: {}, token: t.apiKey });
    expect(res.status).toBe(202);
    const full = await runSettled(t, ((await res.json()) as { runId: string }).runId);
    expect(full).toMatchObject({ status: "done", counts: { disabled: 1 } });
    expect((await user(t, "E0004"))!.status).toBe("disabled");
    const logs = (await (await call(`/v1/integrations/${integrationId}/logs?userId=E0004`, { token: t.apiKey })).json()) as { data: { action: string; detail: string }[] };
    expect(logs.data[0]).toMatchObject({ action: "disable" });
    expect(logs.data[0]!.detail).toContain("not in the full pull");
  });

  it("a full pull that would disable more than maxDisablePercent of its people waits for an admin's approval", async () => {
    const { t, integrationId } = await connectedPeople({ maxDisablePercent: 1 });
    for (const id of ["E0011", "E0012", "E0013", "E0014", "E0015"]) await emu(`/_emulator/zoho/people/${id}`, { method: "DELETE" });
    const res = await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", json: {}, token: t.apiKey });
    const runId = ((await res.json()) as { runId: string }).runId;
    const held = await runSettled(t, runId);
    expect(held).toMatchObject({ status: "held" });
    expect(held.detail).toContain("Would disable 5 of 245 people");
    expect((await user(t, "E0011"))!.status).toBe("active");
    expect((await call(`/v1/runs/${runId}/approve`, { method: "POST", token: t.apiKey })).status).toBe(200);
    expect(await runSettled(t, runId)).toMatchObject({ status: "done", counts: { disabled: 5 } });
    expect((await user(t, "E0011"))!.status).toBe("disabled");
  });

  it("a person already in the directory with the same e-mail is updated, not created again; dates follow the configured format", async () => {
    const t = await createTenant();
    await call("/v1/directory/users/hr-1", { method: "PUT", json: { id: "hr-1", email: "ada.lovelace@acme.example", role: "program_manager" }, token: t.apiKey });
    await emu("/_emulator/zoho/people/E0001", { method: "PUT", json: { Date_of_birth: "21/01/2020" } });
    const { integrationId } = await connectedPeople({ dateFormat: "dd/MM/yyyy" }, t);
    expect(await user(t, "E0001")).toBeNull();
    // The e-mail matched: the existing person got People's fields and kept their own.
    expect(await user(t, "hr-1")).toMatchObject({ firstName: "Ada", role: "program_manager", dateOfBirth: "2020-01-21" });
    // Everyone else's dates are dd-MMM-yyyy: not guessed, left out, and said so.
    expect((await user(t, "E0002"))!.dateOfBirth).toBeNull();
    expect((await link(integrationId, "E0002"))!.last_error).toContain("not in the integration's date format dd/MM/yyyy");
  });

  it("a stale pull never overwrites a newer webhook", async () => {
    const { t, integrationId } = await connectedPeople();
    // The directory heard of a newer change (now) than People's record of E0002 (seeded in November).
    await call("/v1/directory/users/E0002", { method: "PUT", json: { id: "E0002", email: "grace.liskov@acme.example", department: "Newer", updatedAt: new Date().toISOString() }, token: t.apiKey });
    const res = await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", json: {}, token: t.apiKey });
    await runSettled(t, ((await res.json()) as { runId: string }).runId);
    expect((await user(t, "E0002"))!.department).toBe("Newer");
  });

  it("a People change reaches the tenant's Zoho CRM", async () => {
    const t = await createTenant();
    const crm = await createIntegration(t, { provider: "zoho-crm", config: { scope: { exclude: [] } } });
    await connectThroughProvider(t, crm.id, "admin@acme.example");
    await initialResyncSettled(crm.id);
    const { integrationId } = await connectedPeople({}, t);
    await eventually(async () => ((await contacts("grace.liskov@acme.example")).count === 1 ? true : undefined), 30_000);
    await emu("/_emulator/zoho/people/E0002", { method: "PUT", json: { Department: "Compilers" } });
    await incrementalPull(t, integrationId);
    const pushed = await eventually(async () => {
      const found = (await contacts("grace.liskov@acme.example")).records[0];
      return found?.Department === "Compilers" ? found : undefined;
    }, 30_000);
    expect(pushed.Email).toBe("grace.liskov@acme.example");
    // The source itself gets no push jobs: its links are the pulled records only.
    expect((await link(integrationId, "E0002"))!.status).toBe("synced");
  });

  it("a 1,000-employee pull with People's limit at 10 a minute: the hub waits, People never locks", async () => {
    await emu("/_emulator/zoho/people", { method: "POST", json: { count: 750 } });
    await throttle({ perMinute: 10 });
    const { t, integrationId, first } = await connectedPeople({ throttle: { requestsPerMinute: 10 } });
    expect(first.status).toBe("done");
    // 1,000 records: six calls (the sixth finds the end). A second full pull needs six more: four fit the minute, two wait.
    const { run: second, waitedSeconds } = await fullPullByHand(t, integrationId);
    expect(second.status).toBe("done");
    expect(waitedSeconds).toBeGreaterThan(0);
    const state = await throttle();
    expect(state.locks).toBe(0);
    expect(state.served).toHaveLength(12);
    // No 60-second window held more than ten calls, and the second pull did wait.
    const at = state.served.map((s) => s.at);
    for (const start of at) expect(at.filter((x) => x >= start && x < start + 60_000).length).toBeLessThanOrEqual(10);
    expect(at[11]! - at[0]!).toBeGreaterThanOrEqual(60_000);
  });

  it("a locked account is waited out", async () => {
    const { t, integrationId } = await connectedPeople();
    await throttle({ lockForSeconds: 5 });
    const { run } = await fullPullByHand(t, integrationId);
    expect(run).toMatchObject({ status: "done", detail: null });
    expect((await throttle()).locks).toBe(1);
  });
});

describe("#29.7 Zoho People: an empty page ends the pull, and pages follow what People returned", () => {
  it("a quiet incremental pull ends done, and a full pull of exactly 400 employees reaches its leavers", async () => {
    const { t, integrationId } = await connectedPeople();
    // 250 seeded, 150 more, one gone: 399 … and one more, 400 = 2 × 200.
    await emu("/_emulator/zoho/people", { method: "POST", json: { count: 150 } });
    await emu("/_emulator/zoho/people/E0004", { method: "DELETE" });
    await emu("/_emulator/zoho/people", { method: "POST", json: { count: 1, domain: "late.example" } });
    const res = await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", json: {}, token: t.apiKey });
    const full = await runSettled(t, ((await res.json()) as { runId: string }).runId);
    expect(full).toMatchObject({ status: "done", counts: { disabled: 1 } });
    expect((await user(t, "E0004"))!.status).toBe("disabled");
    // Nothing changed since: People answers 7024, and the pull ends done with nothing to do.
    const quiet = await incrementalPull(t, integrationId);
    expect(quiet).toMatchObject({ status: "done", counts: { created: 0, updated: 0 } });
  });

  it("a page whose records all lack an e-mail still moves the pull on by the 200 People returned", async () => {
    await resetEmulator();
    // 250 seeded employees, then 200 People holds without an e-mail.
    await emu("/_emulator/zoho/people", { method: "POST", json: { count: 200, withoutEmail: true } });
    const { first } = await connectedPeople();
    expect(first).toMatchObject({ status: "done", counts: { created: 245 } });
    expect((await throttle()).served.map((s) => s.query.sIndex)).toEqual(["1", "201", "401"]);
  });
});
