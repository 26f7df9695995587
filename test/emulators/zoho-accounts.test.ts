import { beforeEach, describe, expect, it } from "vitest";
import { calls, CRM_SCOPES, emu, EMU, resetEmulator, zoho, ZOHO_CLIENT, zohoAuthorize, zohoTokens } from "./helpers";

beforeEach(() => resetEmulator());

function tokenRequest(accounts: string, params: Record<string, string>) {
  return emu(`${accounts}/oauth/v2/token`, { method: "POST", body: new URLSearchParams(params) });
}

describe("Zoho Accounts emulator: authorization", () => {
  it("shows a plain consent form with Allow and Deny", async () => {
    const q = new URLSearchParams({ client_id: ZOHO_CLIENT.id, response_type: "code", redirect_uri: ZOHO_CLIENT.redirect, scope: "ZohoCRM.modules.ALL", state: "s" });
    const res = await emu(`/zoho/us/accounts/oauth/v2/auth?${q}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<form method="post"');
    expect(html).toContain('id="allow"');
    expect(html).toContain('id="deny"');
    expect(html).toContain("ZohoCRM.modules.ALL");
  });

  it("Allow redirects with code, location, accounts-server and state; Deny with access_denied", async () => {
    const form = (decision: string) =>
      new URLSearchParams({ client_id: ZOHO_CLIENT.id, response_type: "code", redirect_uri: ZOHO_CLIENT.redirect, scope: "ZohoCRM.modules.ALL", state: "s1", access_type: "offline", account: "admin@acme.example", decision });
    const allow = await emu("/zoho/us/accounts/oauth/v2/auth", { method: "POST", body: form("allow") });
    expect(allow.status).toBe(302);
    const url = new URL(allow.headers.get("location")!);
    expect(url.origin + url.pathname).toBe(ZOHO_CLIENT.redirect);
    expect(url.searchParams.get("code")).toMatch(/^1000\./);
    expect(url.searchParams.get("location")).toBe("us");
    expect(url.searchParams.get("accounts-server")).toBe(`${EMU}/zoho/us/accounts`);
    expect(url.searchParams.get("state")).toBe("s1");
    const deny = await emu("/zoho/us/accounts/oauth/v2/auth", { method: "POST", body: form("deny") });
    const denied = new URL(deny.headers.get("location")!);
    expect(denied.searchParams.get("error")).toBe("access_denied");
    expect(denied.searchParams.get("state")).toBe("s1");
    expect(denied.searchParams.get("code")).toBeNull();
  });

  it("an account that lives in the EU is sent to the EU data centre and gets an EU code", async () => {
    const grant = await zohoAuthorize("us", "admin@acme-eu.example", CRM_SCOPES);
    expect(grant.hops).toHaveLength(1);
    expect(grant.hops[0]).toContain("/zoho/eu/accounts/oauth/v2/auth");
    expect(grant.location).toBe("eu");
    expect(grant.accountsServer).toBe(`${EMU}/zoho/eu/accounts`);
    // The code is only good at its own data centre.
    const atUs = await tokenRequest(`${EMU}/zoho/us/accounts`, { grant_type: "authorization_code", client_id: ZOHO_CLIENT.id, client_secret: ZOHO_CLIENT.secret, redirect_uri: ZOHO_CLIENT.redirect, code: grant.code });
    expect(await atUs.json()).toEqual({ error: "invalid_code" });
    const atEu = await tokenRequest(grant.accountsServer, { grant_type: "authorization_code", client_id: ZOHO_CLIENT.id, client_secret: ZOHO_CLIENT.secret, redirect_uri: ZOHO_CLIENT.redirect, code: grant.code });
    expect(((await atEu.json()) as { api_domain: string }).api_domain).toBe(`${EMU}/zoho/eu/api`);
  });

  it("refuses an unknown client", async () => {
    const q = new URLSearchParams({ client_id: "someone-else", response_type: "code", redirect_uri: ZOHO_CLIENT.redirect, scope: "x" });
    expect((await emu(`/zoho/us/accounts/oauth/v2/auth?${q}`)).status).toBe(400);
  });
});

describe("Zoho Accounts emulator: tokens", () => {
  it("exchanges a code once for the documented JSON; a second use is invalid_code", async () => {
    const grant = await zohoAuthorize("us", "admin@acme.example", CRM_SCOPES);
    const params = { grant_type: "authorization_code", client_id: ZOHO_CLIENT.id, client_secret: ZOHO_CLIENT.secret, redirect_uri: ZOHO_CLIENT.redirect, code: grant.code };
    const first = (await (await tokenRequest(grant.accountsServer, params)).json()) as Record<string, unknown>;
    expect(first).toMatchObject({ api_domain: `${EMU}/zoho/us/api`, token_type: "Bearer", expires_in: 3600 });
    expect(first.access_token).toMatch(/^1000\./);
    expect(first.refresh_token).toMatch(/^1000\./);
    expect(await (await tokenRequest(grant.accountsServer, params)).json()).toEqual({ error: "invalid_code" });
  });

  it("accepts the parameters as query string or with Basic client auth; a wrong secret is invalid_client", async () => {
    const grant = await zohoAuthorize("us", "admin@acme.example", CRM_SCOPES);
    const q = new URLSearchParams({ grant_type: "authorization_code", redirect_uri: ZOHO_CLIENT.redirect, code: grant.code });
    const basic = await emu(`${grant.accountsServer}/oauth/v2/token?${q}`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`${ZOHO_CLIENT.id}:${ZOHO_CLIENT.secret}`)}` },
    });
    expect(((await basic.json()) as { access_token?: string }).access_token).toBeDefined();
    const wrong = await tokenRequest(grant.accountsServer, { grant_type: "refresh_token", client_id: ZOHO_CLIENT.id, client_secret: "nope", refresh_token: "x" });
    expect(await wrong.json()).toEqual({ error: "invalid_client" });
  });

  it("codes expire (2 minutes by default; the test shortens it to none)", async () => {
    await emu("/_emulator/settings", { method: "PATCH", json: { codeTtlSeconds: 0 } });
    const grant = await zohoAuthorize("us", "admin@acme.example", CRM_SCOPES);
    const res = await tokenRequest(grant.accountsServer, { grant_type: "authorization_code", client_id: ZOHO_CLIENT.id, client_secret: ZOHO_CLIENT.secret, redirect_uri: ZOHO_CLIENT.redirect, code: grant.code });
    expect(await res.json()).toEqual({ error: "invalid_code" });
  });

  it("access_type=online gives no refresh token", async () => {
    const grant = await zohoAuthorize("us", "admin@acme.example", CRM_SCOPES, { access_type: "online" });
    const body = (await (await tokenRequest(grant.accountsServer, { grant_type: "authorization_code", client_id: ZOHO_CLIENT.id, client_secret: ZOHO_CLIENT.secret, redirect_uri: ZOHO_CLIENT.redirect, code: grant.code })).json()) as Record<string, unknown>;
    expect(body.access_token).toBeDefined();
    expect(body.refresh_token).toBeUndefined();
  });

  it("a refresh answer has no refresh_token; past 10 access tokens in 10 minutes it throttles", async () => {
    const tokens = await zohoTokens("us", "admin@acme.example", CRM_SCOPES);
    const refresh = () =>
      tokenRequest(`${EMU}/zoho/us/accounts`, { grant_type: "refresh_token", client_id: ZOHO_CLIENT.id, client_secret: ZOHO_CLIENT.secret, refresh_token: tokens.refresh_token });
    // The code exchange minted the first of ten.
    for (let i = 0; i < 9; i++) {
      const body = (await (await refresh()).json()) as Record<string, unknown>;
      expect(body.access_token).toBeDefined();
      expect(body.refresh_token).toBeUndefined();
      expect(body.api_domain).toBe(`${EMU}/zoho/us/api`);
    }
    const throttled = await refresh();
    expect(throttled.status).toBe(400);
    expect(await throttled.json()).toEqual({
      error_description: "You have made too many requests continuously. Please try again after some time.",
      error: "Access Denied",
    });
    const state = (await (await emu("/_emulator/tokens")).json()) as { zoho: { refreshTokens: { mintedLast10Minutes: number }[] } };
    expect(state.zoho.refreshTokens[0]!.mintedLast10Minutes).toBe(10);
  });

  it("revoking a refresh token kills it and its access tokens (both revoke forms)", async () => {
    const a = await zohoTokens("us", "admin@acme.example", CRM_SCOPES);
    const revoked = await emu(`${EMU}/zoho/us/accounts/oauth/v2/token/revoke?token=${a.refresh_token}`, { method: "POST" });
    expect(await revoked.json()).toEqual({ status: "success" });
    expect((await zoho(a.api_domain, a.access_token, "/crm/v8/org")).status).toBe(401);
    const again = await tokenRequest(`${EMU}/zoho/us/accounts`, { grant_type: "refresh_token", client_id: ZOHO_CLIENT.id, client_secret: ZOHO_CLIENT.secret, refresh_token: a.refresh_token });
    expect(await again.json()).toEqual({ error: "invalid_code" });

    const b = await zohoTokens("us", "admin@acme.example", CRM_SCOPES);
    const newer = await emu(`${EMU}/zoho/us/accounts/oauth/v2/revoke/token`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`${ZOHO_CLIENT.id}:${ZOHO_CLIENT.secret}`)}` },
      body: new URLSearchParams({ token: b.refresh_token, token_type: "refresh_token" }),
    });
    expect(await newer.json()).toEqual({ status: "success" });
    expect((await emu(`${EMU}/zoho/us/accounts/oauth/v2/token/revoke?token=unknown`, { method: "POST" })).status).toBe(400);
    expect((await calls()).calls["POST /zoho/us/accounts/oauth/v2/token/revoke"]).toBe(2);
  });

  it("the control API can expire every access token or revoke refresh tokens", async () => {
    const t = await zohoTokens("us", "admin@acme.example", CRM_SCOPES);
    expect((await zoho(t.api_domain, t.access_token, "/crm/v8/org")).status).toBe(200);
    await emu("/_emulator/tokens/expire", { method: "POST" });
    const expired = await zoho(t.api_domain, t.access_token, "/crm/v8/org");
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { code: string }).code).toBe("INVALID_TOKEN");
    await emu("/_emulator/tokens/revoke", { method: "POST", json: { refreshToken: t.refresh_token } });
    const refreshed = await tokenRequest(`${EMU}/zoho/us/accounts`, { grant_type: "refresh_token", client_id: ZOHO_CLIENT.id, client_secret: ZOHO_CLIENT.secret, refresh_token: t.refresh_token });
    expect(await refreshed.json()).toEqual({ error: "invalid_code" });
  });
});
