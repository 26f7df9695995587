import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { createDb } from "../../src/db/client";
import { getIntegration } from "../../src/db/integrations.repo";
import { getAccessToken } from "../../src/integrations/tokens";
import type { JobMessage } from "../../src/sync/jobs";
import { call, createTenant, eventually, sendWebhook, userEvent } from "../helpers";
import { emu, resetEmulator } from "../emulators/helpers";
import { connectThroughProvider, createIntegration } from "./helpers";

beforeEach(() => resetEmulator());

describe("no job is lost while an integration waits to be reconnected", () => {
  it("jobs park as pending links, and the reconnect sends them again to the queue", async () => {
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

    // The reconnect's callback, observed: it sends the parked job again.
    const sent: JobMessage[] = [];
    const observed = {
      send: (body: JobMessage) => env.JOBS.send(body),
      sendBatch: (messages: Iterable<MessageSendRequest<JobMessage>>) => {
        const list = [...messages];
        sent.push(...list.map((m) => m.body));
        return env.JOBS.sendBatch(list);
      },
    } as Queue<JobMessage>;
    const ctx = createExecutionContext();
    const res = await createApp().request(await freshCallback(t, created.id), {}, { ...env, JOBS: observed }, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(302);
    expect((await getIntegration(db, t.id, created.id))!.status).toBe("active");
    expect(sent).toEqual([expect.objectContaining({ integrationId: created.id, userId: "u_parked", kind: "push" })]);
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
