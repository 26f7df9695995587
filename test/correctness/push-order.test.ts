import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { getIntegration } from "../../src/integrations/store";
import { pushGroup } from "../../src/sync/push";
import { eventually } from "../helpers";
import { emu, resetEmulator, setFaults } from "../emulators/helpers";
import { connectedCrm, contacts, link, linkIn, send } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

describe("14.5 concurrent pushes of one person", () => {
  it("an older push that lands after a newer one neither leaves Zoho older than the link nor writes an older link", async () => {
    const { t, integrationId } = await connectedCrm();
    await send(t, "user.created", { id: "u_race", email: "race@order.example", lastName: "One" });
    await linkIn(integrationId, "u_race", ["synced"]);
    const db = createDb(env.DB);
    const integration = (await getIntegration(db, t.id, integrationId))!;
    const setPerson = (version: number, lastName: string) =>
      env.DB.prepare("UPDATE directory_users SET version = ?, last_name = ? WHERE tenant_id = ? AND id = 'u_race'").bind(version, lastName, t.id).run();

    // Push A reads version 2, and its write to Zoho is slow.
    await setPerson(2, "Two");
    await setFaults({ latencyMs: 1500, services: ["zoho-crm"] });
    const a = pushGroup(db, env, integration, ["u_race"]);
    await new Promise((r) => setTimeout(r, 300));
    // Meanwhile version 3 arrives and push B writes it at once.
    await emu("/_emulator/faults", { method: "DELETE" });
    await setPerson(3, "Three");
    await pushGroup(db, env, integration, ["u_race"]);
    expect((await contacts("race@order.example")).records[0]!.Last_Name).toBe("Three");
    await a;

    // A's older link was not written over B's, and Zoho ends with version 3.
    expect((await link(integrationId, "u_race"))!.pushed_version).toBe(3);
    await eventually(async () => ((await contacts("race@order.example")).records[0]!.Last_Name === "Three" ? true : undefined), 10_000);
    expect(await link(integrationId, "u_race")).toMatchObject({ status: "synced", pushed_version: 3 });
  });
});
