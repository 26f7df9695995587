import { beforeEach, describe, expect, it } from "vitest";
import { call, problem } from "../helpers";
import { resetEmulator, setFaults } from "../emulators/helpers";
import { connectedCrm, send, linkIn } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

describe("a provider failure a route does not handle itself becomes problem+json in the one error handler", () => {
  it("the provider answering 5xx to a manual link is a 503 with Retry-After, and nothing is linked", async () => {
    const { t, integrationId } = await connectedCrm();
    await send(t, "user.created", { id: "u_wait", email: "wait@errors.example", lastName: "Wait" });
    const before = await linkIn(integrationId, "u_wait", ["synced"]);
    await setFaults({ failureRate: 1, services: ["zoho-crm"] });
    const res = await call(`/v1/integrations/${integrationId}/links/u_wait`, { method: "PUT", json: { remoteId: "5725767000999000777" }, token: t.apiKey });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await problem(res)).detail).toContain("The provider could not do it now");
    expect(await linkIn(integrationId, "u_wait", ["synced"])).toMatchObject({ remote_id: before.remote_id });
  });
});
