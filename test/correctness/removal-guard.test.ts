import { beforeEach, describe, expect, it } from "vitest";
import { call, eventually, type TestTenant } from "../helpers";
import { resetEmulator } from "../emulators/helpers";
import { connectedCrm, contacts, link, linkIn, logs, runSettled, send } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

interface Run {
  id: string;
  kind: string;
  status: string;
  trigger: string;
  userIds: string[] | null;
  detail: string | null;
}

/** Ten people synced to Zoho under `onDelete: delete` (and the default maxDisablePercent, 20). */
async function tenSynced() {
  const { t, integrationId } = await connectedCrm({ onDelete: "delete" });
  const ids = Array.from({ length: 10 }, (_, i) => `r${i}`);
  for (const id of ids) await send(t, "user.created", { id, email: `${id}@removals.example`, lastName: id });
  for (const id of ids) await linkIn(integrationId, id, ["synced"]);
  return { t, integrationId, ids };
}

async function heldRuns(t: TestTenant, integrationId: string) {
  const res = await call(`/v1/runs?integrationId=${integrationId}&status=held`, { token: t.apiKey });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Run[] }).data;
}

/** Eight of the ten are deleted by webhook: five go (the hourly allowance), three are held behind a run. */
async function eightDeleted(t: TestTenant, integrationId: string, ids: string[]) {
  const leaving = ids.slice(0, 8);
  for (const id of leaving) await send(t, "user.deleted", { id });
  const held = await eventually(async () => {
    const [run] = await heldRuns(t, integrationId);
    return run && run.userIds?.length === 3 ? run : undefined;
  }, 15_000);
  await eventually(async () => ((await contacts()).count === 5 ? true : undefined), 15_000);
  return { leaving, held };
}

describe("14.13c removals by webhook are held past the mass-change guard within a rolling hour", () => {
  it("removes up to the allowance, holds the rest behind a held run, lets creates and resyncs go on, and removes the rest once approved", async () => {
    const { t, integrationId, ids } = await tenSynced();
    const { leaving, held } = await eightDeleted(t, integrationId, ids);
    expect(held).toMatchObject({ kind: "resync", trigger: "api" });
    expect(held.detail).toMatch(/mass-change guard|maxDisablePercent/);
    // The three held people keep their records and say why.
    for (const id of held.userIds!) {
      expect(leaving).toContain(id);
      expect(await link(integrationId, id)).toMatchObject({ status: "pending", last_error: expect.stringContaining(held.id) });
      expect((await contacts(`${id}@removals.example`)).count).toBe(1);
    }
    // Creates and updates go on.
    await send(t, "user.created", { id: "newcomer", email: "newcomer@removals.example", lastName: "New" });
    await linkIn(integrationId, "newcomer", ["synced"]);
    await send(t, "user.updated", { id: "r9", email: "r9@removals.example", lastName: "Renamed" });
    await eventually(async () => ((await contacts("r9@removals.example")).records[0]?.Last_Name === "Renamed" ? true : undefined));
    // A resync of everyone is not blocked by the held run, and leaves the held removals to it.
    const resync = await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", token: t.apiKey });
    expect(resync.status).toBe(202);
    expect(await runSettled(t, ((await resync.json()) as { runId: string }).runId)).toMatchObject({ status: "done" });
    expect((await contacts()).count).toBe(6);

    expect((await call(`/v1/runs/${held.id}/approve`, { method: "POST", token: t.apiKey })).status).toBe(200);
    expect(await runSettled(t, held.id)).toMatchObject({ status: "done", counts: expect.objectContaining({ disabled: 3 }) });
    expect((await contacts()).count).toBe(3);
    for (const id of held.userIds!) expect(await link(integrationId, id)).toBeNull();
  }, 60_000);

  it("cancelled: the held records are left as they are, and the same removals are not held again", async () => {
    const { t, integrationId, ids } = await tenSynced();
    const { held } = await eightDeleted(t, integrationId, ids);
    expect((await call(`/v1/runs/${held.id}/cancel`, { method: "POST", token: t.apiKey })).status).toBe(200);
    for (const id of held.userIds!) {
      expect(await link(integrationId, id)).toMatchObject({ status: "synced", last_error: expect.stringContaining("cancelled") });
      expect((await logs(integrationId, id)).at(-1)).toMatchObject({ action: "skip", status: "skipped" });
    }
    // A later resync of everyone does not bring them back to the guard.
    const resync = await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", token: t.apiKey });
    expect(await runSettled(t, ((await resync.json()) as { runId: string }).runId)).toMatchObject({ status: "done" });
    expect(await heldRuns(t, integrationId)).toEqual([]);
    expect((await contacts()).count).toBe(5);
  }, 60_000);
});
