import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { getIntegration } from "../../src/integrations/store";
import { getAccessToken } from "../../src/integrations/tokens";
import { call, createTenant, eventually, sendWebhook, userEvent } from "../helpers";
import { emu, resetEmulator } from "../emulators/helpers";
import { connectThroughProvider, createIntegration } from "./helpers";
import { contacts, linkIn } from "../sync/helpers";

beforeEach(() => resetEmulator());

describe("no job is lost while an integration waits to be reconnected", () => {
  it("jobs park as pending links, and the reconnect's resync pushes them", async () => {
    const t = await createTenant();
    const created = await createIntegration(t, { provider: "zoho-crm" });
    await connectThroughProvider(t, created.id, "admin@acme.example");
    const db = createDb(env.DB);

    // The provider rejects the refresh token: the integration now waits for a reconnect.
    await emu("/_emulator/tokens/revoke", { method: "POST", json: {} });
    await env.DB.prepare("UPDATE integration_credentials SET access_expires_at = 0 WHERE integration_id = ?").bind(created.id).run();
    await getAccessToken(db, env, (await getIntegration(db, t.id, created.id))!).catch(() => undefined);
    expect((await getIntegration(db, t.id, created.id))!.pendingActions).toEqual(["reconnect"]);

    // A change arrives meanwhile: its job is delivered and parked.
    expect((await sendWebhook(t, userEvent("user.created", { id: "u_parked", email: "parked@hub.example", lastName: "Parked" }))).status).toBe(202);
    await eventually(async () => {
      const row = await env.DB.prepare("SELECT status FROM links WHERE integration_id = ? AND user_id = 'u_parked'").bind(created.id).first<{ status: string }>();
      return row?.status === "pending" ? row : undefined;
    });

    // The reconnect's callback starts a resync run, which pushes the parked person.
    const res = await call(await freshCallback(t, created.id));
    expect(res.status).toBe(302);
    expect((await getIntegration(db, t.id, created.id))!.status).toBe("active");
    const run = await env.DB.prepare("SELECT id, trigger FROM runs WHERE integration_id = ? AND kind = 'resync'").bind(created.id).first<{ id: string; trigger: string }>();
    expect(run).toMatchObject({ trigger: "api" });
    const synced = await linkIn(created.id, "u_parked", ["synced"]);
    expect((await contacts("parked@hub.example")).records.map((r) => r.id)).toEqual([synced.remote_id]);
  });
});

/** The callback path and query the provider sends the browser to after consent (not yet called). */
async function freshCallback(t: { apiKey: string }, integrationId: string): Promise<string> {
  const res = await call(`/v1/integrations/${integrationId}/connect`, { method: "POST", token: t.apiKey });
  const { authorizeUrl } = (await res.json()) as { authorizeUrl: string };
  const start = new URL(authorizeUrl);
  start.searchParams.set("auto_approve", "1");
  start.searchParams.set("login_hint", "admin@acme.example");
  const consent = await fetch(start, { redirect: "manual" });
  const callback = new URL(consent.headers.get("location")!);
  return `${callback.pathname}${callback.search}`;
}
