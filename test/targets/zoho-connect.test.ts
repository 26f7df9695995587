import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant, cronTick, eventually, type TestTenant } from "../helpers";
import { calls, emu, resetEmulator } from "../emulators/helpers";
import { connectThroughProvider, createIntegration } from "../integrations/helpers";
import { initialResyncSettled, link, runSettled } from "../sync/helpers";

const NETWORK = "105000000001";

interface ConnectWorld {
  networks: { id: string }[];
  members: Record<string, { id: string; emailId: string }[]>;
  invited: Record<string, { email: string }[]>;
  groups: Record<string, { partitionId: string; name: string; members: string[] }[]>;
}

const world = async () => (await (await emu("/_emulator/zoho/connect")).json()) as ConnectWorld;
const member = async (email: string) => (await world()).members[NETWORK]!.find((m) => m.emailId === email);
/** The hub's groups at the emulator (a prefix keeps them apart from the seeded ones). */
const group = async (name: string) => (await world()).groups[NETWORK]!.filter((g) => g.name === name);

async function putUser(t: TestTenant, user: Record<string, unknown>) {
  const res = await call(`/v1/directory/users/${user.id}`, { method: "PUT", json: user, token: t.apiKey });
  expect([200, 201]).toContain(res.status);
}

async function integration(t: TestTenant, id: string) {
  return (await (await call(`/v1/integrations/${id}`, { token: t.apiKey })).json()) as { status: string; pendingActions: string[]; stats: Record<string, number>; config: Record<string, any> };
}

async function logsOf(t: TestTenant, integrationId: string, query: string) {
  return ((await (await call(`/v1/integrations/${integrationId}/logs?${query}`, { token: t.apiKey })).json()) as { data: { action: string; status: string; detail: string; userId: string | null }[] }).data;
}

/** A tenant with people, and a Zoho Connect integration connected to the one network, its rules reviewed. */
async function connectedConnect(people: Record<string, unknown>[], config: Record<string, unknown> = {}) {
  const t = await createTenant();
  for (const p of people) await putUser(t, p);
  const i = await createIntegration(t, { provider: "zoho-connect", config: { groupRulesReviewed: true, groupRules: [{ field: "department", prefix: "Dept: ", create: true }], ...config } });
  await connectThroughProvider(t, i.id, "admin@acme.example");
  await initialResyncSettled(i.id);
  return { t, integrationId: i.id };
}

async function reconcile(t: TestTenant, integrationId: string) {
  const res = await call(`/v1/integrations/${integrationId}/reconcile`, { method: "POST", token: t.apiKey });
  expect(res.status).toBe(202);
  return runSettled(t, ((await res.json()) as { runId: string }).runId);
}

const ada = { id: "u-ada", email: "ada@connect.example", firstName: "Ada", department: "Engineering" };
const grace = { id: "u-grace", email: "grace@connect.example", firstName: "Grace", department: "Engineering" };
const alan = { id: "u-alan", email: "alan@connect.example", firstName: "Alan", department: "Research" };

beforeEach(() => resetEmulator());

describe("Zoho Connect target", () => {
  it("one network is chosen at connect; a second network leaves the integration pending with choose-network until one is chosen", async () => {
    const t = await createTenant();
    const one = await createIntegration(t, { provider: "zoho-connect" });
    expect(one.pendingActions).toEqual(["connect", "choose-network", "review-group-rules"]);
    await connectThroughProvider(t, one.id, "admin@acme.example");
    expect(await integration(t, one.id)).toMatchObject({ status: "pending", pendingActions: ["review-group-rules"], config: { networkId: NETWORK } });

    await emu("/_emulator/zoho/connect/networks", { method: "POST", json: { id: "105000000002", name: "Acme Partners" } });
    const two = await createIntegration(t, { provider: "zoho-connect", config: { groupRulesReviewed: true } });
    await connectThroughProvider(t, two.id, "admin@acme.example");
    expect(await integration(t, two.id)).toMatchObject({ status: "pending", pendingActions: ["choose-network"] });
    const networks = (await (await call(`/v1/integrations/${two.id}/networks`, { token: t.apiKey })).json()) as { data: { id: string; name: string }[] };
    expect(networks.data.map((n) => n.name)).toEqual(["Acme Connect", "Acme Partners"]);
    const chosen = await call(`/v1/integrations/${two.id}`, { method: "PATCH", json: { config: { networkId: "105000000002" } }, token: t.apiKey });
    expect(await chosen.json()).toMatchObject({ status: "active", pendingActions: [] });
    // What Connect cannot do is said where providers are described.
    const providers = (await (await call("/v1/providers", { token: t.apiKey })).json()) as { id: string; limitations: string[] }[];
    expect(providers.find((p) => p.id === "zoho-connect")!.limitations.join(" ")).toContain("no call that updates a member's profile");
  });

  it("new people are invited in one batched call and shown invited until they join; then they are linked and grouped", async () => {
    const { t, integrationId } = await connectedConnect([ada, grace, alan]);
    const made = await calls();
    expect(made.calls["POST /zoho/us/connect/pulse/api/inviteUsersToNetwork"]).toBe(1);
    expect((await world()).invited[NETWORK]!.map((i) => i.email).sort()).toEqual([ada.email, alan.email, grace.email]);
    expect(await link(integrationId, "u-ada")).toMatchObject({ status: "invited", remote_id: null });
    expect((await integration(t, integrationId)).stats).toMatchObject({ invited: 3, synced: 0 });
    const invited = (await (await call(`/v1/integrations/${integrationId}/links?status=invited`, { token: t.apiKey })).json()) as { data: { userId: string }[] };
    expect(invited.data.map((l) => l.userId).sort()).toEqual(["u-ada", "u-alan", "u-grace"]);
    // A later change does not invite them again.
    await putUser(t, { ...ada, lastName: "Lovelace" });
    await eventually(async () => ((await link(integrationId, "u-ada"))!.pushed_version === 2 ? true : undefined));
    expect((await calls()).calls["POST /zoho/us/connect/pulse/api/inviteUsersToNetwork"]).toBe(1);

    // Two of them accept; reconciliation finds them, links them and puts them in their groups.
    await emu("/_emulator/zoho/connect/join", { method: "POST", json: { emails: [ada.email, alan.email] } });
    await reconcile(t, integrationId);
    const adaMember = (await member(ada.email))!;
    expect(await link(integrationId, "u-ada")).toMatchObject({ status: "synced", remote_id: adaMember.id });
    expect(await link(integrationId, "u-grace")).toMatchObject({ status: "invited" });
    expect((await integration(t, integrationId)).stats).toMatchObject({ invited: 1, synced: 2 });
    expect((await group("Dept: Engineering"))[0]!.members).toEqual([adaMember.id]);
    expect((await group("Dept: Research"))[0]!.members).toEqual([(await member(alan.email))!.id]);
    expect((await logsOf(t, integrationId, "userId=u-ada&action=group.add"))[0]).toMatchObject({ status: "ok", detail: "Dept: Engineering" });
  });

  it("a department change moves the person between groups, logged; a group is created once and reused", async () => {
    const { t, integrationId } = await connectedConnect([ada, grace, alan]);
    await emu("/_emulator/zoho/connect/join", { method: "POST", json: {} });
    await reconcile(t, integrationId);
    const before = (await calls()).calls["POST /zoho/us/connect/pulse/api/addGroup"];
    expect(before).toBe(2);

    await putUser(t, { ...grace, department: "Research" });
    const graceId = (await member(grace.email))!.id;
    await eventually(async () => ((await group("Dept: Research"))[0]!.members.includes(graceId) ? true : undefined), 10_000);
    expect((await group("Dept: Engineering"))[0]!.members).not.toContain(graceId);
    // Research existed (Alan's): no second group of that name.
    expect(await group("Dept: Research")).toHaveLength(1);
    expect((await calls()).calls["POST /zoho/us/connect/pulse/api/addGroup"]).toBe(2);
    const moves = await logsOf(t, integrationId, "userId=u-grace");
    expect(moves.filter((l) => l.action.startsWith("group.")).map((l) => [l.action, l.detail])).toEqual(
      expect.arrayContaining([
        ["group.remove", "Dept: Engineering"],
        ["group.add", "Dept: Research"],
      ]),
    );
    const stored = await env.DB.prepare("SELECT name, remote_id FROM remote_groups WHERE integration_id = ? ORDER BY name").bind(integrationId).all();
    expect(stored.results.map((r) => r.name)).toEqual(["Dept: Engineering", "Dept: Research"]);
  });

  it("reconciliation puts back a membership removed in Connect", async () => {
    const { t, integrationId } = await connectedConnect([ada]);
    await emu("/_emulator/zoho/connect/join", { method: "POST", json: {} });
    await reconcile(t, integrationId);
    const adaId = (await member(ada.email))!.id;
    const engineering = (await group("Dept: Engineering"))[0]!;
    // Someone takes Ada out of the group by hand, in Connect.
    await emu(`/_emulator/zoho/connect/groups/${engineering.partitionId}/members/${adaId}`, { method: "DELETE" });
    expect((await group("Dept: Engineering"))[0]!.members).toEqual([]);
    await reconcile(t, integrationId);
    expect((await group("Dept: Engineering"))[0]!.members).toEqual([adaId]);
  });

  it("a leaver from Zoho People is disabled in the directory and removed from Connect under onDelete deactivate", async () => {
    const t = await createTenant();
    const connect = await createIntegration(t, { provider: "zoho-connect", config: { groupRulesReviewed: true, onDelete: "deactivate", maxDisablePercent: 100 } });
    await connectThroughProvider(t, connect.id, "admin@acme.example");
    const people = await createIntegration(t, { provider: "zoho-people" });
    await connectThroughProvider(t, people.id, "admin@acme.example");
    // Ada (E0001) is one of Connect's seeded members: the pull links her there by e-mail.
    const adaLink = await eventually(async () => {
      const l = await link(connect.id, "E0001");
      return l?.status === "synced" ? l : undefined;
    }, 30_000);
    // Everyone else People has is invited, in one call.
    expect((await calls()).calls["POST /zoho/us/connect/pulse/api/inviteUsersToNetwork"]).toBeGreaterThanOrEqual(1);

    await emu("/_emulator/zoho/people/E0001", { method: "PUT", json: { Employeestatus: "Resigned" } });
    await env.DB.prepare("UPDATE integrations SET pull_due_at = 0 WHERE id = ?").bind(people.id).run();
    await cronTick();
    await eventually(async () => ((await member("ada.lovelace@acme.example")) ? undefined : true), 30_000);
    const user = (await (await call("/v1/directory/users/E0001", { token: t.apiKey })).json()) as { status: string };
    expect(user.status).toBe("disabled");
    const removal = (await logsOf(t, connect.id, "userId=E0001&action=disable"))[0]!;
    expect(removal).toMatchObject({ status: "ok" });
    expect(removal.detail).toContain("onDelete is deactivate");
    expect(await link(connect.id, "E0001")).toBeNull();
    expect(adaLink.remote_id).not.toBeNull();
  });

  it("removals under deactivate count against the hourly allowance of the mass-change guard", async () => {
    const people = Array.from({ length: 7 }, (_, i) => ({ id: `u-leaver${i}`, email: `leaver${i}@connect.example`, department: "Ops" }));
    const { t, integrationId } = await connectedConnect(people, { onDelete: "deactivate", maxDisablePercent: 10 });
    await emu("/_emulator/zoho/connect/join", { method: "POST", json: {} });
    await reconcile(t, integrationId);
    // One at a time, as a host app would send them: five an hour go, the sixth waits for an admin.
    for (const p of people.slice(0, 6)) {
      await putUser(t, { ...p, status: "disabled" });
      await eventually(async () => {
        const l = await link(integrationId, p.id);
        return l === null || l.status === "pending" ? true : undefined;
      }, 10_000);
    }
    const members = (await world()).members[NETWORK]!.filter((m) => m.emailId.startsWith("leaver"));
    expect(members.map((m) => m.emailId)).toEqual(["leaver5@connect.example", "leaver6@connect.example"]);
    expect((await link(integrationId, "u-leaver5"))!.last_error).toContain("held by the mass-change guard");
  });

  it("a resync that removes more than 90 members at once forgets their groups in statements D1 can take", async () => {
    const people = Array.from({ length: 120 }, (_, i) => ({ id: `u-mass${i}`, email: `mass${i}@connect.example`, department: "Ops" }));
    const { t, integrationId } = await connectedConnect(people, { onDelete: "deactivate", maxDisablePercent: 100 });
    await emu("/_emulator/zoho/connect/join", { method: "POST", json: {} });
    await reconcile(t, integrationId);
    expect((await group("Dept: Ops"))[0]!.members).toHaveLength(120);
    // Everyone leaves while the integration is off; activating it pushes them all in one resync.
    expect((await call(`/v1/integrations/${integrationId}/deactivate`, { method: "POST", token: t.apiKey })).status).toBe(200);
    for (const p of people) await putUser(t, { ...p, status: "disabled" });
    expect((await call(`/v1/integrations/${integrationId}/activate`, { method: "POST", token: t.apiKey })).status).toBe(200);
    await eventually(async () => ((await world()).members[NETWORK]!.some((m) => m.emailId.startsWith("mass")) ? undefined : true), 20_000);
    await initialResyncSettled(integrationId);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM group_members WHERE integration_id = ?").bind(integrationId).first<{ n: number }>();
    expect(left!.n).toBe(0);
    const runs = await env.DB.prepare("SELECT status, disabled FROM runs WHERE integration_id = ? AND kind = 'resync' ORDER BY started_at DESC LIMIT 1").bind(integrationId).first<{ status: string; disabled: number }>();
    expect(runs).toEqual({ status: "done", disabled: 120 });
  }, 60_000);
});

describe("#29.8 Zoho Connect's calls that create are never repeated blindly, and groups made in Connect are used", () => {
  it("an invitation whose answer was lost is sent once", async () => {
    const { t, integrationId } = await connectedConnect([]);
    // Every write of Connect's is made, then its answer is lost.
    await emu("/_emulator/faults", { method: "PUT", json: { services: ["zoho-connect"], methods: ["POST"], applyThenFail: { rate: 1, mode: "drop" } } });
    await putUser(t, { id: "u-lost", email: "lost@connect.example", firstName: "Lost", department: "Support" });
    await eventually(async () => ((await world()).invited[NETWORK]?.some((i) => i.email === "lost@connect.example") ? true : undefined), 15_000);
    await emu("/_emulator/faults", { method: "DELETE" });
    // The hub retries later (the queue), and a resync goes over everyone.
    const res = await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", token: t.apiKey });
    expect(res.status).toBe(202);
    await runSettled(t, ((await res.json()) as { runId: string }).runId);
    const invitation = (await world()).invited[NETWORK]!.find((i) => i.email === "lost@connect.example") as { sends: number } | undefined;
    expect(invitation?.sends).toBe(1);
  });

  it("a group whose creation's answer was lost is created once", async () => {
    const { t, integrationId } = await connectedConnect([ada]);
    await emu("/_emulator/zoho/connect/join", { method: "POST", json: {} });
    await emu("/_emulator/faults", { method: "PUT", json: { services: ["zoho-connect"], methods: ["POST"], applyThenFail: { rate: 1, mode: "drop" } } });
    await putUser(t, { ...ada, department: "Lost Answers" });
    await eventually(async () => ((await group("Dept: Lost Answers")).length ? true : undefined), 15_000);
    await emu("/_emulator/faults", { method: "DELETE" });
    await reconcile(t, integrationId);
    expect(await group("Dept: Lost Answers")).toHaveLength(1);
  });

  it("a group of the same name made in Connect is used, with create true or false, and never made again", async () => {
    // The network has groups made by hand in Connect (the emulator's seed: Engineering, Sales, …), and one more.
    await emu("/_emulator/zoho/connect/groups", { method: "POST", json: { name: "Legal" } });
    const { t, integrationId } = await connectedConnect([ada, grace], { groupRules: [{ field: "department", create: false }] });
    await emu("/_emulator/zoho/connect/join", { method: "POST", json: {} });
    await reconcile(t, integrationId);
    const engineering = await group("Engineering");
    expect(engineering).toHaveLength(1);
    const members = (await world()).members[NETWORK]!.filter((m) => [ada.email, grace.email].includes(m.emailId)).map((m) => m.id);
    expect(engineering[0]!.members.sort()).toEqual(members.sort());
    // With create: true the made-by-hand group is used too, not made again.
    const patched = await call(`/v1/integrations/${integrationId}`, { method: "PATCH", token: t.apiKey, json: { config: { groupRules: [{ field: "department", create: true }], groupRulesReviewed: true } } });
    expect(patched.status).toBe(200);
    await putUser(t, { ...grace, department: "Sales" });
    await eventually(async () => ((await group("Sales"))[0]?.members.length === 1 ? true : undefined), 15_000);
    await putUser(t, { ...ada, department: "Legal" });
    await eventually(async () => ((await group("Legal"))[0]?.members.length === 1 ? true : undefined), 15_000);
    expect(await group("Legal")).toHaveLength(1);
    expect(await group("Sales")).toHaveLength(1);
    expect(await group("Engineering")).toHaveLength(1);
  });
});
