import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { resetEmulator } from "../emulators/helpers";
import { connectedCrm } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

describe("14.5 starting a run is atomic", () => {
  it("eight concurrent resync requests start one run; the others answer 409", async () => {
    const { t, integrationId } = await connectedCrm();
    const answers = await Promise.all(Array.from({ length: 8 }, () => call(`/v1/integrations/${integrationId}/resync`, { method: "POST", json: {}, token: t.apiKey })));
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409, 409, 409, 409, 409, 409]);
    const open = await env.DB.prepare("SELECT COUNT(*) AS n FROM runs WHERE integration_id = ? AND kind = 'resync' AND status IN ('running', 'held')").bind(integrationId).first<{ n: number }>();
    expect(open!.n).toBeLessThanOrEqual(1);
    const all = await env.DB.prepare("SELECT COUNT(*) AS n FROM runs WHERE integration_id = ? AND kind = 'resync'").bind(integrationId).first<{ n: number }>();
    expect(all!.n).toBe(2); // the initial resync of connecting, and one of the eight
  });
});
