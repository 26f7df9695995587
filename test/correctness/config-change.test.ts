import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { resetEmulator } from "../emulators/helpers";
import { connectedCrm, contacts, linkIn, runSettled, send } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

const patch = (t: { apiKey: string }, id: string, config: Record<string, unknown>) => call(`/v1/integrations/${id}`, { method: "PATCH", json: { config }, token: t.apiKey });

describe("14.13f a config change the connection cannot serve, and one that changes what is pushed", () => {
  it("a new object needing a scope the grant lacks shows reconnect at once, with the reason", async () => {
    const { t, integrationId } = await connectedCrm();
    const res = await patch(t, integrationId, { object: "Leads" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; pendingActions: string[]; lastError: string };
    expect(body.pendingActions).toEqual(["reconnect"]);
    expect(body.status).toBe("pending");
    expect(body.lastError).toContain("ZohoCRM.modules.leads.ALL");
  });

  it("a mapping change resets what was pushed and starts a resync that pushes everyone again with the new mapping", async () => {
    const { t, integrationId } = await connectedCrm();
    await send(t, "user.created", { id: "u_m", email: "m@config.example", lastName: "Mapped", department: "Ops" });
    await linkIn(integrationId, "u_m", ["synced"]);
    const res = await patch(t, integrationId, {
      mapping: [
        { to: "Email", from: "email", required: true },
        { to: "Last_Name", from: "lastName", required: true },
        { to: "Department", expr: "$uppercase(department)" },
      ],
    });
    expect(res.status).toBe(200);
    const run = await env.DB.prepare("SELECT id FROM runs WHERE integration_id = ? AND kind = 'resync' ORDER BY started_at DESC LIMIT 1").bind(integrationId).first<{ id: string }>();
    expect(await runSettled(t, run!.id)).toMatchObject({ status: "done", counts: expect.objectContaining({ updated: 1 }) });
    expect((await contacts("m@config.example")).records).toEqual([expect.objectContaining({ Department: "OPS" })]);
  });
});
