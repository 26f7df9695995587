import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call, eventually } from "../helpers";
import { calls, emu, EMU, resetEmulator, setFaults } from "../emulators/helpers";
import { connectedCrm, contacts, link, linkIn, logs, send } from "./helpers";

beforeEach(() => resetEmulator());

const ada = { id: "u_ada", email: "ada@hub.example", firstName: "Ada", lastName: "Lovelace", department: "Analytics", role: "mentee" };

describe("push to Zoho CRM", () => {
  it("creates the contact, links it with the record URL, and logs the create", async () => {
    const { t, integrationId } = await connectedCrm();
    expect((await send(t, "user.created", ada)).status).toBe(202);
    const l = await linkIn(integrationId, "u_ada", ["synced"]);
    const { records } = await contacts("ada@hub.example");
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ Email: "ada@hub.example", First_Name: "Ada", Last_Name: "Lovelace", Department: "Analytics" });
    expect(l.remote_id).toBe(records[0]!.id);
    expect(l.remote_url).toBe(`${EMU}/zoho/us/crm/crm/org700000001/tab/Contacts/${records[0]!.id}`);
    expect(await logs(integrationId, "u_ada")).toEqual([{ action: "create", status: "ok", detail: null }]);
    // The directory user shows the link.
    const user = (await (await call("/v1/directory/users/u_ada", { token: t.apiKey })).json()) as { links: { remoteUrl: string; status: string }[] };
    expect(user.links).toEqual([expect.objectContaining({ provider: "zoho-crm", status: "synced", remoteUrl: l.remote_url })]);
  });

  it("updates the same record on a change, and skips an unchanged person without calling Zoho", async () => {
    const { t, integrationId } = await connectedCrm();
    await send(t, "user.created", ada);
    const first = await linkIn(integrationId, "u_ada", ["synced"]);
    await send(t, "user.updated", { ...ada, department: "Mathematics" });
    await eventually(async () => ((await logs(integrationId, "u_ada")).length === 2 ? true : undefined));
    expect((await contacts("ada@hub.example")).records).toEqual([expect.objectContaining({ id: first.remote_id, Department: "Mathematics" })]);

    await emu("/_emulator/calls", { method: "DELETE" });
    await send(t, "user.updated", { ...ada, department: "Mathematics" });
    await eventually(async () => ((await logs(integrationId, "u_ada")).length === 3 ? true : undefined));
    expect((await logs(integrationId, "u_ada")).map((l) => [l.action, l.detail])).toEqual([
      ["create", null],
      ["update", null],
      ["skip", "unchanged"],
    ]);
    expect((await calls()).total).toBe(0);
  });

  it("leaves a program manager out (logged skip, no call)", async () => {
    const { t, integrationId } = await connectedCrm();
    await emu("/_emulator/calls", { method: "DELETE" });
    await send(t, "user.created", { ...ada, role: "program_manager" });
    const l = await linkIn(integrationId, "u_ada", ["excluded"]);
    expect(l.remote_id).toBeNull();
    expect(await logs(integrationId, "u_ada")).toEqual([{ action: "skip", status: "skipped", detail: 'excluded by scope (role in ["program_manager"])' }]);
    expect((await calls()).total).toBe(0);
  });

  it("matches an existing Zoho contact by exact e-mail and links it instead of creating one", async () => {
    await emu("/_emulator/zoho/us/crm/Contacts", { method: "POST", json: { records: [{ id: "5725767000999000001", Email: "ada@hub.example", Last_Name: "Old" }] } });
    const { t, integrationId } = await connectedCrm();
    await send(t, "user.created", ada);
    const l = await linkIn(integrationId, "u_ada", ["synced"]);
    expect(l.remote_id).toBe("5725767000999000001");
    expect((await contacts("ada@hub.example")).records).toEqual([expect.objectContaining({ id: "5725767000999000001", Last_Name: "Lovelace" })]);
    expect((await logs(integrationId, "u_ada"))[0]).toMatchObject({ action: "link", status: "ok" });
  });

  it("case-sensitive matching (the default) does not link a contact whose e-mail differs in case; case-insensitive does", async () => {
    await emu("/_emulator/zoho/us/crm/Contacts", { method: "POST", json: { records: [{ id: "5725767000999000002", Email: "grace@hub.example", Last_Name: "Hopper" }] } });
    const sensitive = await connectedCrm();
    await send(sensitive.t, "user.created", { id: "u_grace", email: "Grace@hub.example", lastName: "Hopper" });
    const unmatched = await linkIn(sensitive.integrationId, "u_grace", ["unmatched"]);
    expect(unmatched.last_error).toContain("different case");
    expect((await contacts()).records.filter((r) => String(r.Email).toLowerCase() === "grace@hub.example")).toHaveLength(1);

    const insensitive = await connectedCrm({ matching: { by: "email", caseSensitive: false } });
    await send(insensitive.t, "user.created", { id: "u_grace", email: "Grace@hub.example", lastName: "Hopper" });
    const linked = await linkIn(insensitive.integrationId, "u_grace", ["synced"]);
    expect(linked.remote_id).toBe("5725767000999000002");
    expect((await contacts()).records.filter((r) => String(r.Email).toLowerCase() === "grace@hub.example")).toHaveLength(1);
  });

  it("maps with a JSONata expression", async () => {
    const { t, integrationId } = await connectedCrm({
      mapping: [
        { to: "Email", from: "email", required: true },
        { to: "Last_Name", from: "lastName", required: true },
        { to: "Department", expr: "$uppercase(department)" },
        { to: "Description", expr: "firstName & ' from ' & attributes.cohort" },
      ],
    });
    await send(t, "user.created", { ...ada, attributes: { cohort: "2026" } });
    await linkIn(integrationId, "u_ada", ["synced"]);
    expect((await contacts("ada@hub.example")).records[0]).toMatchObject({ Department: "ANALYTICS", Description: "Ada from 2026" });
  });

  it("bad data fails the person with Zoho's message and field, or the mapping's", async () => {
    const { t, integrationId } = await connectedCrm({
      mapping: [
        { to: "Email", expr: "$contains(email, 'broken') ? 'not-an-email' : email", required: true },
        { to: "Last_Name", from: "lastName", required: true },
      ],
    });
    await send(t, "user.created", { id: "u_broken", email: "broken@hub.example", lastName: "X" });
    const zoho = await linkIn(integrationId, "u_broken", ["failed"]);
    expect(zoho).toMatchObject({ failure_kind: "bad_data" });
    expect(zoho.last_error).toMatch(/^Zoho: .*INVALID_DATA, field Email/);
    await send(t, "user.created", { id: "u_nameless", email: "nameless@hub.example" });
    const mapping = await linkIn(integrationId, "u_nameless", ["failed"]);
    expect(mapping.last_error).toBe("Last_Name is required but lastName has no value.");
  });

  it("a deleted person's old failed link no longer counts in stats.failed", async () => {
    const { t, integrationId } = await connectedCrm({
      mapping: [
        { to: "Email", expr: "department = 'Broken' ? 'not-an-email' : email", required: true },
        { to: "Last_Name", from: "lastName", required: true },
      ],
    });
    await send(t, "user.created", { ...ada, department: "Ops" });
    await linkIn(integrationId, "u_ada", ["synced"]);
    await send(t, "user.updated", { ...ada, department: "Broken" });
    await linkIn(integrationId, "u_ada", ["failed"]);
    const stats = async () => ((await (await call(`/v1/integrations/${integrationId}`, { token: t.apiKey })).json()) as { stats: Record<string, number> }).stats;
    expect((await stats()).failed).toBe(1);
    await send(t, "user.deleted", { id: "u_ada" });
    await eventually(async () => ((await logs(integrationId, "u_ada")).at(-1)?.action === "skip" ? true : undefined));
    expect(await stats()).toMatchObject({ failed: 0 });
  });

  it("onDelete ignore leaves the record; delete removes it; deactivate is refused for records", async () => {
    const kept = await connectedCrm();
    await send(kept.t, "user.created", ada);
    await linkIn(kept.integrationId, "u_ada", ["synced"]);
    await send(kept.t, "user.deleted", { id: "u_ada" });
    await eventually(async () => ((await logs(kept.integrationId, "u_ada")).some((l) => l.action === "skip") ? true : undefined));
    expect((await logs(kept.integrationId, "u_ada")).at(-1)!.detail).toContain("onDelete is ignore");
    expect((await contacts("ada@hub.example")).count).toBe(1);

    await resetEmulator();
    const removed = await connectedCrm({ onDelete: "delete" });
    await send(removed.t, "user.created", ada);
    await linkIn(removed.integrationId, "u_ada", ["synced"]);
    await send(removed.t, "user.deleted", { id: "u_ada" });
    await eventually(async () => ((await link(removed.integrationId, "u_ada")) === null ? true : undefined));
    expect((await contacts("ada@hub.example")).count).toBe(0);
    expect((await logs(removed.integrationId, "u_ada")).at(-1)).toMatchObject({ action: "delete", status: "ok" });

    const refused = await call("/v1/integrations", { method: "POST", json: { provider: "zoho-crm", config: { onDelete: "deactivate" } }, token: removed.t.apiKey });
    expect(refused.status).toBe(422);
  }, 20_000);
});

describe("push under provider trouble", () => {
  it("429: the integration waits, then succeeds", async () => {
    const { t, integrationId } = await connectedCrm();
    await setFaults({ rateLimit: { limit: 0, windowSeconds: 60 }, retryAfterSeconds: 1, services: ["zoho-crm"] });
    await send(t, "user.created", ada);
    const waiting = await linkIn(integrationId, "u_ada", ["pending"]);
    await eventually(async () => ((await link(integrationId, "u_ada"))?.last_error?.includes("TOO_MANY_REQUESTS") ? true : undefined));
    const paused = await env.DB.prepare("SELECT paused_until FROM integrations WHERE id = ?").bind(integrationId).first<{ paused_until: number }>();
    expect(paused!.paused_until).toBeGreaterThan(Date.now() - 5000);
    void waiting;
    await emu("/_emulator/faults", { method: "DELETE" });
    await linkIn(integrationId, "u_ada", ["synced"]);
    expect((await contacts("ada@hub.example")).count).toBe(1);
  });

  it("401 mid-way: one refresh, then it succeeds", async () => {
    const { t, integrationId } = await connectedCrm();
    await send(t, "user.created", ada);
    await linkIn(integrationId, "u_ada", ["synced"]);
    await emu("/_emulator/tokens/expire", { method: "POST" });
    await emu("/_emulator/calls", { method: "DELETE" });
    await send(t, "user.updated", { ...ada, department: "Poetry" });
    await eventually(async () => ((await contacts("ada@hub.example")).records[0]?.Department === "Poetry" ? true : undefined));
    expect((await calls()).calls["POST /zoho/us/accounts/oauth/v2/token"]).toBe(1);
  });

  it("30% 5xx and apply-then-fail on 200 people: all 200 synced, exactly 200 contacts", async () => {
    const { t, integrationId } = await connectedCrm();
    const before = (await contacts()).count;
    await setFaults({ failureRate: 0.3, applyThenFail: { rate: 0.3, mode: "drop" }, seed: 11, services: ["zoho-crm"] });
    for (let i = 0; i < 200; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, k) => send(t, "user.created", { id: `u_${i + k}`, email: `person${i + k}@bulk.example`, lastName: `Person ${i + k}` })));
    }
    await eventually(async () => {
      const row = await env.DB.prepare("SELECT count(*) AS n FROM links WHERE integration_id = ? AND status = 'synced'").bind(integrationId).first<{ n: number }>();
      return row!.n === 200 ? true : undefined;
    }, 90_000);
    const after = await contacts();
    expect(after.count - before).toBe(200);
    expect(new Set(after.records.filter((r) => String(r.Email).endsWith("@bulk.example")).map((r) => r.Email)).size).toBe(200);
  }, 120_000);
});
