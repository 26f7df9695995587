import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { emu, resetEmulator } from "../emulators/helpers";
import { connectedCrm, contacts, link, linkIn, runSettled, send } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

describe("14.4 a write refused for the whole request is not bad data", () => {
  it("the people wait as pending with the reason, the integration pauses visibly, and a resync pushes them once it is allowed again", async () => {
    const { t, integrationId } = await connectedCrm();
    await emu("/_emulator/settings", { method: "PATCH", json: { crmWritesForbidden: true } });
    await send(t, "user.created", { id: "u_wait", email: "wait@request.example", lastName: "Wait" });
    const waiting = await linkIn(integrationId, "u_wait", ["pending", "failed"]);
    expect(waiting).toMatchObject({ status: "pending", failure_kind: "retry", pushed_version: null });
    expect(waiting.last_error).toContain("NO_PERMISSION");
    const integration = await env.DB.prepare("SELECT paused_until, last_error FROM integrations WHERE id = ?").bind(integrationId).first<{ paused_until: number; last_error: string }>();
    expect(integration!.paused_until).toBeGreaterThan(Date.now() + 60_000);
    expect(integration!.last_error).toContain("NO_PERMISSION");

    // The admin gives the permission back; the pause is over.
    await emu("/_emulator/settings", { method: "PATCH", json: { crmWritesForbidden: false } });
    await env.DB.prepare("UPDATE integrations SET paused_until = NULL WHERE id = ?").bind(integrationId).run();
    const res = await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", json: {}, token: t.apiKey });
    expect(res.status).toBe(202);
    expect(await runSettled(t, ((await res.json()) as { runId: string }).runId)).toMatchObject({ status: "done", counts: expect.objectContaining({ created: 1 }) });
    expect(await link(integrationId, "u_wait")).toMatchObject({ status: "synced" });
    expect((await contacts("wait@request.example")).count).toBe(1);
  }, 30_000);
});
