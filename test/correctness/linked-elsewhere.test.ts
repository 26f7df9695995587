import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call, eventually } from "../helpers";
import { resetEmulator } from "../emulators/helpers";
import { connectedCrm, contacts, link, linkIn, logs, runSettled, send } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

describe("14.1 an e-mail already linked to someone else", () => {
  it("the second person is unmatched with a reason naming the first; the record is not flipped; the rest syncs and resyncs finish", async () => {
    const { t, integrationId } = await connectedCrm();
    await send(t, "user.created", { id: "u_1", email: "ada@x.example", firstName: "Ada", lastName: "First" });
    const first = await linkIn(integrationId, "u_1", ["synced"]);
    // Deleted under onDelete: ignore, the link (and the record) are kept.
    await send(t, "user.deleted", { id: "u_1" });
    await eventually(async () => ((await logs(integrationId, "u_1")).at(-1)?.action === "skip" ? true : undefined));

    // The host app later gives the same address to someone else, alongside an ordinary newcomer.
    await Promise.all([
      send(t, "user.created", { id: "u_2", email: "ada@x.example", firstName: "Ada", lastName: "Second" }),
      send(t, "user.created", { id: "u_3", email: "cyd@x.example", lastName: "Third" }),
    ]);
    const second = await linkIn(integrationId, "u_2", ["unmatched"]);
    expect(second.remote_id).toBeNull();
    expect(second.last_error).toContain("u_1");
    await linkIn(integrationId, "u_3", ["synced"]);
    // The record still holds the first person's values: it was not written for u_2.
    expect((await contacts("ada@x.example")).records).toEqual([expect.objectContaining({ id: first.remote_id, Last_Name: "First" })]);
    expect(await link(integrationId, "u_1")).toMatchObject({ remote_id: first.remote_id });

    // A resync holding u_2 finishes, and does not write the record either.
    const res = await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", json: { userIds: ["u_2", "u_3"] }, token: t.apiKey });
    const run = await runSettled(t, ((await res.json()) as { runId: string }).runId);
    expect(run).toMatchObject({ status: "done", counts: expect.objectContaining({ unmatched: 1 }) });
    expect((await contacts("ada@x.example")).records).toEqual([expect.objectContaining({ id: first.remote_id, Last_Name: "First" })]);
  }, 30_000);

  it("two active people with one address in the same group: one is linked, the other unmatched naming them", async () => {
    const { t, integrationId } = await connectedCrm();
    await Promise.all([
      send(t, "user.created", { id: "u_a", email: "twin@x.example", lastName: "A" }),
      send(t, "user.created", { id: "u_b", email: "twin@x.example", lastName: "B" }),
    ]);
    const a = await linkIn(integrationId, "u_a", ["synced", "unmatched"]);
    const b = await linkIn(integrationId, "u_b", ["synced", "unmatched"]);
    const [winner, loser] = a.status === "synced" ? [["u_a", a], ["u_b", b]] as const : [["u_b", b], ["u_a", a]] as const;
    expect(winner[1].status).toBe("synced");
    expect(loser[1]).toMatchObject({ status: "unmatched", remote_id: null });
    expect(loser[1].last_error).toContain(winner[0]);
    expect((await contacts("twin@x.example")).count).toBe(1);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM links WHERE integration_id = ? AND remote_id IS NOT NULL").bind(integrationId).first<{ n: number }>();
    expect(rows!.n).toBe(1);
  }, 30_000);
});
