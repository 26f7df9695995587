import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { getIntegration } from "../../src/integrations/store";
import { pushGroup } from "../../src/sync/push";
import { call, eventually, type TestTenant } from "../helpers";
import { emu, resetEmulator, setFaults } from "../emulators/helpers";
import { connectedCrm, contacts, link, linkIn, logs, runSettled, send } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

/**
 * The state an upsert leaves when Zoho stored the record and then answered 500 on every
 * try: the record exists in Zoho, the person's link is `pending` with no remote id.
 */
async function createWithUnknownOutcome(t: TestTenant, integrationId: string, id: string, email: string) {
  expect((await call(`/v1/integrations/${integrationId}/deactivate`, { method: "POST", token: t.apiKey })).status).toBe(200);
  expect((await call(`/v1/directory/users/${id}`, { method: "PUT", json: { email, lastName: "Ghost" }, token: t.apiKey })).status).toBe(201);
  await env.DB.prepare("UPDATE integrations SET status = 'active' WHERE id = ?").bind(integrationId).run();
  await emu("/_emulator/zoho/us/crm/Contacts", { method: "POST", json: { records: [{ Email: email, Last_Name: "Ghost" }] } });
  await env.DB.prepare("INSERT INTO links (tenant_id, integration_id, user_id, status, last_error, failure_kind, updated_at) VALUES (?, ?, ?, 'pending', 'Zoho answered 500.', 'retry', ?)")
    .bind(t.id, integrationId, id, Date.now())
    .run();
}

describe("14.8 a create whose outcome was unknown, then a delete", () => {
  it("the person is looked up by e-mail before being skipped, and the deletion policy reaches the record Zoho did create", async () => {
    const { t, integrationId } = await connectedCrm({ onDelete: "delete" });
    await createWithUnknownOutcome(t, integrationId, "u_ghost", "ghost@orphan.example");
    expect((await contacts("ghost@orphan.example")).count).toBe(1);
    await send(t, "user.deleted", { id: "u_ghost" });
    await eventually(async () => ((await contacts("ghost@orphan.example")).count === 0 ? true : undefined), 15_000);
    await eventually(async () => ((await link(integrationId, "u_ghost")) === null ? true : undefined));
    expect((await logs(integrationId, "u_ghost")).map((l) => `${l.action} ${l.status}`)).toContain("delete ok");
  }, 30_000);

  it("under onDelete ignore the hub keeps track of that record: the link gets its id", async () => {
    const { t, integrationId } = await connectedCrm();
    await createWithUnknownOutcome(t, integrationId, "u_kept", "kept@orphan.example");
    await send(t, "user.disabled", { id: "u_kept" });
    const [record] = (await contacts("kept@orphan.example")).records;
    await eventually(async () => ((await link(integrationId, "u_kept"))?.remote_id === record!.id ? true : undefined), 15_000);
    expect((await contacts("kept@orphan.example")).count).toBe(1);
  }, 30_000);
});

describe("14.8 a create's outcome is durable as soon as it is known", () => {
  it("the record a create made is linked before the rest of the push's calls answer, so a crash then cannot orphan it", async () => {
    const { t, integrationId } = await connectedCrm({ onDelete: "delete" });
    await send(t, "user.created", { id: "u_leaving", email: "leaving@durable.example", lastName: "Leaving" });
    await linkIn(integrationId, "u_leaving", ["synced"]);
    // One push holds a create and a delete; the delete is slow to answer (the process
    // could die meanwhile, as in the soak).
    const db = createDb(env.DB);
    const integration = (await getIntegration(db, t.id, integrationId))!;
    await env.DB.prepare("UPDATE directory_users SET status = 'deleted', version = version + 1 WHERE tenant_id = ? AND id = 'u_leaving'").bind(t.id).run();
    await env.DB.prepare("INSERT INTO directory_users (tenant_id, id, email, email_lower, last_name, status, version, source_updated_at, created_at, updated_at) VALUES (?, 'u_new', 'new@durable.example', 'new@durable.example', 'New', 'active', 1, ?, ?, ?)")
      .bind(t.id, Date.now(), Date.now(), Date.now())
      .run();
    await setFaults({ latencyMs: 3_000, services: ["zoho-crm"], methods: ["DELETE"] });
    let finished = false;
    const push = pushGroup(db, env, integration, ["u_leaving", "u_new"]).then((outcome) => ((finished = true), outcome));
    const created = await eventually(async () => {
      const l = await link(integrationId, "u_new");
      return l?.status === "synced" ? l : undefined;
    }, 10_000);
    expect(finished).toBe(false);
    expect(created.remote_id).toBe((await contacts("new@durable.example")).records[0]!.id);
    expect((await push).counts).toMatchObject({ created: 1, disabled: 1 });
    expect((await logs(integrationId, "u_new")).map((l) => `${l.action} ${l.status}`)).toEqual(["create ok"]);
  }, 30_000);
});

describe("14.8 reconciliation and records of people no longer active", () => {
  /** The state the old push left: the record exists in Zoho, the person is inactive, and no link is kept. */
  async function forgottenRecord(t: TestTenant, integrationId: string, id: string, email: string, status: "disabled" | "deleted") {
    await createWithUnknownOutcome(t, integrationId, id, email);
    await env.DB.prepare("DELETE FROM links WHERE integration_id = ? AND user_id = ?").bind(integrationId, id).run();
    await env.DB.prepare("UPDATE directory_users SET status = ?, version = version + 1 WHERE tenant_id = ? AND id = ?").bind(status, t.id, id).run();
    return (await contacts(email)).records[0]!.id as string;
  }

  async function reconcile(t: TestTenant, integrationId: string) {
    const res = await call(`/v1/integrations/${integrationId}/reconcile`, { method: "POST", token: t.apiKey });
    expect(res.status).toBe(202);
    return runSettled(t, ((await res.json()) as { runId: string }).runId);
  }

  it("under onDelete delete, the record matching a deleted person is deleted", async () => {
    const { t, integrationId } = await connectedCrm({ onDelete: "delete" });
    const recordId = await forgottenRecord(t, integrationId, "u_forgotten", "forgotten@orphan.example", "deleted");
    const run = await reconcile(t, integrationId);
    expect(run).toMatchObject({ status: "done", counts: expect.objectContaining({ disabled: 1, unmatched: 0 }) });
    expect((await contacts("forgotten@orphan.example")).count).toBe(0);
    expect(await link(integrationId, "u_forgotten")).toBeNull();
    expect((await logs(integrationId, "u_forgotten")).map((l) => `${l.action} ${l.status}`)).toContain("delete ok");
    const unmatched = (await (await call(`/v1/integrations/${integrationId}/unmatched`, { token: t.apiKey })).json()) as { remote: { remoteId: string }[] };
    expect(unmatched.remote.map((r) => r.remoteId)).not.toContain(recordId);
  }, 30_000);

  it("otherwise the record is linked to the inactive person and left as it is, so the hub keeps track of it", async () => {
    const { t, integrationId } = await connectedCrm({ onDelete: "delete" });
    const recordId = await forgottenRecord(t, integrationId, "u_away", "away@orphan.example", "disabled");
    const run = await reconcile(t, integrationId);
    expect(run).toMatchObject({ status: "done", counts: expect.objectContaining({ unchanged: 1, unmatched: 0, disabled: 0 }) });
    expect(await link(integrationId, "u_away")).toMatchObject({ status: "synced", remote_id: recordId });
    expect((await contacts("away@orphan.example")).records).toEqual([expect.objectContaining({ id: recordId, Last_Name: "Ghost" })]);
    const unmatched = (await (await call(`/v1/integrations/${integrationId}/unmatched`, { token: t.apiKey })).json()) as { remote: { remoteId: string }[] };
    expect(unmatched.remote).toEqual([]);
  }, 30_000);

  it("an active person with the same key wins the record over an inactive one", async () => {
    const { t, integrationId } = await connectedCrm({ onDelete: "delete" });
    const recordId = await forgottenRecord(t, integrationId, "u_old", "shared@orphan.example", "deleted");
    expect((await call("/v1/directory/users/u_heir", { method: "PUT", json: { email: "shared@orphan.example", lastName: "Heir" }, token: t.apiKey })).status).toBe(201);
    await linkIn(integrationId, "u_heir", ["synced"]);
    const run = await reconcile(t, integrationId);
    expect(run).toMatchObject({ status: "done" });
    expect(await link(integrationId, "u_heir")).toMatchObject({ status: "synced", remote_id: recordId });
    expect((await contacts("shared@orphan.example")).records).toEqual([expect.objectContaining({ id: recordId, Last_Name: "Heir" })]);
  }, 30_000);
});
