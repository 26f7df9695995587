import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createTenant, eventually, sendWebhook, userEvent } from "../helpers";
import { emu, resetEmulator, setFaults } from "../emulators/helpers";
import { connectThroughProvider, createIntegration } from "../integrations/helpers";

beforeEach(() => resetEmulator());

describe("exhausted retries", () => {
  it("after the last retry the dead-letter queue marks the link failed with the last reason", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    await connectThroughProvider(t, i.id, "admin@acme.example");
    await setFaults({ failureRate: 1, services: ["zoho-crm"] });
    expect((await sendWebhook(t, userEvent("user.created", { id: "u_doomed", email: "doomed@hub.example", lastName: "Doomed" }))).status).toBe(202);
    const failed = await eventually(async () => {
      const l = await env.DB.prepare("SELECT status, last_error, failure_kind FROM links WHERE integration_id = ? AND user_id = 'u_doomed'").bind(i.id).first<{ status: string; last_error: string; failure_kind: string }>();
      return l?.status === "failed" ? l : undefined;
    }, 60_000);
    expect(failed.failure_kind).toBe("retry");
    expect(failed.last_error).toBe("Gave up after every retry: Zoho answered 500.");
    expect(((await (await emu("/_emulator/zoho/us/crm/Contacts?email=doomed@hub.example")).json()) as { count: number }).count).toBe(0);
  }, 90_000);
});
