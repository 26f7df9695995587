import { beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers";
import { resetEmulator } from "../emulators/helpers";
import { connectedCrm, contacts, link, linkIn, logs, send } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

describe("14.13b onDelete: delete removes deleted people's records, not disabled people's", () => {
  it("a disabled person's record stays (logged); a deleted person's record is removed", async () => {
    const { t, integrationId } = await connectedCrm({ onDelete: "delete" });
    await send(t, "user.created", { id: "u_off", email: "off@policy.example", lastName: "Off" });
    await send(t, "user.created", { id: "u_gone", email: "gone@policy.example", lastName: "Gone" });
    const off = await linkIn(integrationId, "u_off", ["synced"]);
    await linkIn(integrationId, "u_gone", ["synced"]);

    await send(t, "user.disabled", { id: "u_off" });
    await send(t, "user.deleted", { id: "u_gone" });
    await eventually(async () => ((await link(integrationId, "u_gone")) === null ? true : undefined), 10_000);
    await eventually(async () => ((await logs(integrationId, "u_off")).at(-1)?.action === "skip" ? true : undefined), 10_000);
    expect((await logs(integrationId, "u_off")).at(-1)!.detail).toContain("removes the records of deleted people only");
    expect((await contacts("off@policy.example")).records.map((r) => r.id)).toEqual([off.remote_id]);
    expect((await contacts("gone@policy.example")).count).toBe(0);
    expect(await link(integrationId, "u_off")).toMatchObject({ remote_id: off.remote_id });
  }, 30_000);
});
