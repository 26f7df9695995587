import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant, eventually, sendWebhook, userEvent } from "../helpers";
import { emu, resetEmulator, setFaults } from "../emulators/helpers";
import { connectThroughProvider, createIntegration } from "../integrations/helpers";
import { initialResyncSettled, linkIn, runSettled } from "./helpers";

beforeEach(() => resetEmulator());

describe("exhausted retries", () => {
  it("after the last retry the dead-letter queue marks the link failed with the last reason; a resync replays it once the fault is lifted", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    await connectThroughProvider(t, i.id, "admin@acme.example");
    await initialResyncSettled(i.id);
    // The after handler hears of it: a receiver at the emulators (not faulted) that verifies deliveries.
    const receiver = crypto.randomUUID();
    await emu(`/_emulator/receivers/${receiver}`, { method: "PUT", json: { secret: t.eventSecret } });
    const after = { url: `${env.EMULATOR_URL}/receivers/${receiver}`, events: ["user.failed"] };
    expect((await call(`/v1/integrations/${i.id}`, { method: "PATCH", json: { config: { handlers: { after } } }, token: t.apiKey })).status).toBe(200);
    await setFaults({ failureRate: 1, services: ["zoho-crm"] });
    expect((await sendWebhook(t, userEvent("user.created", { id: "u_doomed", email: "doomed@hub.example", lastName: "Doomed" }))).status).toBe(202);
    const failed = await eventually(async () => {
      const l = await env.DB.prepare("SELECT status, last_error, failure_kind FROM links WHERE integration_id = ? AND user_id = 'u_doomed'").bind(i.id).first<{ status: string; last_error: string; failure_kind: string }>();
      return l?.status === "failed" ? l : undefined;
    }, 60_000);
    expect(failed.failure_kind).toBe("retry");
    expect(failed.last_error).toBe("Gave up after every retry: Zoho answered 500.");
    expect(((await (await emu("/_emulator/zoho/us/crm/Contacts?email=doomed@hub.example")).json()) as { count: number }).count).toBe(0);
    const told = await eventually(async () => {
      const { deliveries } = (await (await emu(`/_emulator/receivers/${receiver}`)).json()) as { deliveries: { verified: boolean; body: { type: string; data: Record<string, unknown> } }[] };
      return deliveries.find((d) => d.body.type === "user.failed");
    }, 20_000);
    expect(told).toMatchObject({ verified: true, body: { data: { userId: "u_doomed", email: "doomed@hub.example", error: "Gave up after every retry: Zoho answered 500." } } });

    // The fault is lifted; the "Resync Users" button replays the person.
    await emu("/_emulator/faults", { method: "DELETE" });
    const res = await call(`/v1/integrations/${i.id}/resync`, { method: "POST", json: { userIds: ["u_doomed"] }, token: t.apiKey });
    expect(res.status).toBe(202);
    const run = await runSettled(t, ((await res.json()) as { runId: string }).runId);
    expect(run).toMatchObject({ status: "done", counts: expect.objectContaining({ created: 1, failed: 0 }) });
    const synced = await linkIn(i.id, "u_doomed", ["synced"]);
    const { records } = (await (await emu("/_emulator/zoho/us/crm/Contacts?email=doomed@hub.example")).json()) as { records: { id: string }[] };
    expect(records.map((r) => r.id)).toEqual([synced.remote_id]);
  }, 90_000);
});
