import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { getIntegration } from "../../src/db/integrations.repo";
import { pushGroup } from "../../src/sync/push";
import { call, eventually, type TestTenant } from "../helpers";
import { emu, resetEmulator, setFaults } from "../emulators/helpers";
import { connectedCrm, contacts, link, linkIn, logs, send } from "../sync/helpers";

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
