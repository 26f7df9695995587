import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../src/connectors";
import { createDb } from "../../src/db/client";
import { getIntegration } from "../../src/integrations/store";
import { getAccessToken } from "../../src/integrations/tokens";
import { createTenant } from "../helpers";
import { calls, emu, resetEmulator } from "../emulators/helpers";
import { connectThroughProvider, createIntegration, credentialRow } from "../integrations/helpers";
import { initialResyncSettled } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

async function connectedWithExpiredToken() {
  const t = await createTenant();
  const i = await createIntegration(t, { provider: "zoho-crm" });
  await connectThroughProvider(t, i.id, "admin@acme.example");
  await initialResyncSettled(i.id);
  await env.DB.prepare("UPDATE integration_credentials SET access_expires_at = ? WHERE integration_id = ?").bind(Date.now() - 1000, i.id).run();
  const db = createDb(env.DB);
  return { t, db, integration: (await getIntegration(db, t.id, i.id))! };
}

const tokenCalls = async () => (await calls()).calls["POST /zoho/us/accounts/oauth/v2/token"] ?? 0;

describe("14.2 a wrong client secret", () => {
  it("keeps every credential, retries later and shows an operator-facing status; the right secret works again", async () => {
    const { db, integration } = await connectedWithExpiredToken();
    const wrongSecret = { ...env, ZOHO_CLIENT_SECRET: "rotated-in-zoho-not-yet-here" };
    const failure = await getAccessToken(db, wrongSecret, integration).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ProviderError);
    expect((failure as ProviderError).kind).toBe("config");
    expect(await credentialRow(integration.id)).not.toBeNull();
    const after = (await getIntegration(db, integration.tenantId, integration.id))!;
    expect(after.status).toBe("active");
    expect(after.pendingActions).toEqual([]);
    expect(after.lastError).toContain("invalid_client");
    expect(after.lastError).toContain("ZOHO_CLIENT_SECRET");
    // The operator fixes the secret: the stored refresh token still works.
    const token = await getAccessToken(db, env, after);
    expect(token.token).toMatch(/^1000\./);
  });
});

describe("14.6 Zoho Accounts throttles refreshes", () => {
  it("25 callers in the throttled window make one token call; the integration pauses with the reason", async () => {
    const { db, integration } = await connectedWithExpiredToken();
    // The refresh token has minted its one allowed token: the next refresh is throttled.
    await emu("/_emulator/settings", { method: "PATCH", json: { zohoMintLimit: 1 } });
    await emu("/_emulator/calls", { method: "DELETE" });
    const results = await Promise.all(Array.from({ length: 25 }, () => getAccessToken(db, env, integration).catch((e: unknown) => e)));
    expect(results.every((r) => r instanceof ProviderError && r.kind === "retryAfter")).toBe(true);
    expect(await tokenCalls()).toBe(1);
    const after = (await getIntegration(db, integration.tenantId, integration.id))!;
    expect(after.pausedUntil).toBeGreaterThan(Date.now() + 30_000);
    expect(after.lastError).toMatch(/throttl/i);
    // A second wave inside the window makes no token call at all.
    await Promise.all(Array.from({ length: 25 }, () => getAccessToken(db, env, integration).catch(() => null)));
    expect(await tokenCalls()).toBe(1);
    expect(await credentialRow(integration.id)).not.toBeNull();
  }, 30_000);
});
