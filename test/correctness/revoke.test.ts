import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant, problem } from "../helpers";
import { emu, resetEmulator, setFaults } from "../emulators/helpers";
import { connectThroughProvider, createIntegration, credentialRow } from "../integrations/helpers";
import { initialResyncSettled } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

async function refreshTokens() {
  const state = (await (await emu("/_emulator/tokens")).json()) as { zoho: { refreshTokens: { revoked: boolean }[] } };
  return state.zoho.refreshTokens;
}

describe("14.13e revoking at Zoho when an integration is deleted", () => {
  for (const [label, faults] of [
    ["429", { rateLimit: { limit: 0, windowSeconds: 60 }, retryAfterSeconds: 1, services: ["zoho-accounts"] }],
    ["5xx", { failureRate: 1, services: ["zoho-accounts"] }],
  ] as const) {
    it(`a revoke answered ${label} is tried again, and the delete waits (503, nothing deleted) until Zoho confirms`, async () => {
      const t = await createTenant();
      const i = await createIntegration(t, { provider: "zoho-crm" });
      await connectThroughProvider(t, i.id, "admin@acme.example");
      await initialResyncSettled(i.id);
      await setFaults(faults);
      const refused = await call(`/v1/integrations/${i.id}`, { method: "DELETE", token: t.apiKey });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBeTruthy();
      expect((await problem(refused)).detail).toContain("Nothing was deleted");
      expect(await credentialRow(i.id)).not.toBeNull();
      expect((await call(`/v1/integrations/${i.id}`, { token: t.apiKey })).status).toBe(200);
      expect((await refreshTokens()).every((r) => !r.revoked)).toBe(true);

      await emu("/_emulator/faults", { method: "DELETE" });
      expect((await call(`/v1/integrations/${i.id}`, { method: "DELETE", token: t.apiKey })).status).toBe(204);
      expect((await refreshTokens()).every((r) => r.revoked)).toBe(true);
    }, 20_000);
  }

  it("a token Zoho already revoked (400/401) counts as revoked: the delete goes ahead", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    await connectThroughProvider(t, i.id, "admin@acme.example");
    await initialResyncSettled(i.id);
    await emu("/_emulator/tokens/revoke", { method: "POST", json: {} });
    expect((await call(`/v1/integrations/${i.id}`, { method: "DELETE", token: t.apiKey })).status).toBe(204);
    expect(await credentialRow(i.id)).toBeNull();
  });
});
