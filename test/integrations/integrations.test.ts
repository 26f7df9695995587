import { env } from "cloudflare:test";
import { SignJWT } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { getIntegration } from "../../src/integrations/store";
import { createDb } from "../../src/db/client";
import { getAccessToken } from "../../src/integrations/tokens";
import { ReauthRequired } from "../../src/connectors";
import { call, createTenant, problem } from "../helpers";
import { calls, emu, EMU, resetEmulator } from "../emulators/helpers";
import { connectThroughProvider, createIntegration, credentialRow } from "./helpers";

beforeEach(() => resetEmulator());

describe("providers and integration lifecycle", () => {
  it("GET /v1/providers lists the four providers with their defaults and a config schema", async () => {
    const t = await createTenant();
    const res = await call("/v1/providers", { token: t.apiKey });
    const providers = (await res.json()) as { id: string; direction: string; objects: string[]; defaultMapping: unknown[]; configSchema: { type: string; properties: Record<string, unknown> } }[];
    expect(providers.map((p) => [p.id, p.direction])).toEqual([
      ["zoho-crm", "push"],
      ["zoho-connect", "push"],
      ["zoho-people", "pull"],
      ["microsoft-365", "two-way"],
    ]);
    expect(providers[0]!.objects).toContain("Contacts");
    expect(providers[0]!.defaultMapping).toContainEqual({ to: "Last_Name", from: "lastName", required: true });
    expect(providers[0]!.configSchema.properties).toHaveProperty("mapping");
  });

  it("a new integration starts pending with the provider's defaults", async () => {
    const t = await createTenant();
    const crm = await createIntegration(t, { provider: "zoho-crm", name: "Zoho CRM (EU)" });
    expect(crm).toMatchObject({ status: "pending", pendingActions: ["connect"], connection: null });
    expect(crm.config).toMatchObject({ object: "Contacts", onDelete: "ignore", matching: { by: "email", caseSensitive: true }, scope: { exclude: [{ field: "role", in: ["program_manager"] }] } });
    const connect = await createIntegration(t, { provider: "zoho-connect" });
    expect(connect.pendingActions).toEqual(["connect", "choose-network", "review-group-rules"]);
    const unknown = await call("/v1/integrations", { method: "POST", json: { provider: "salesforce" }, token: t.apiKey });
    expect(unknown.status).toBe(422);
  });

  it("PATCH validates the config: bad JSONata, bad regex, unsafe webhook URLs and unknown objects are 422 with paths", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const patch = (config: unknown) => call(`/v1/integrations/${i.id}`, { method: "PATCH", json: { config }, token: t.apiKey });
    const bad = await patch({
      object: "Spaceships",
      mapping: [{ to: "Email", from: "email" }, { to: "Department", expr: "$uppercase(department" }],
      scope: { exclude: [{ field: "role", matches: "([a-z" }] },
      handlers: { after: { url: "http://10.0.0.1/hook", events: ["user.synced"] } },
    });
    expect(bad.status).toBe(422);
    const paths = (await problem(bad)).errors!.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["config.object", "config.mapping.1.expr", "config.scope.exclude.0.matches", "config.handlers.after.url"]));
    for (const url of ["https://127.0.0.1/x", "https://192.168.1.4/x", "https://localhost/x", "https://[::1]/x", "https://metadata.internal/x"]) {
      const res = await patch({ handlers: { after: { url, events: ["run.completed"] } } });
      expect(res.status).toBe(422);
    }
    const shape = await patch({ onDelete: "explode" });
    expect((await problem(shape)).errors![0]!.path).toBe("config.onDelete");
    const ok = await patch({ mapping: [{ to: "Email", from: "email" }, { to: "Last_Name", from: "lastName", required: true }, { to: "Department", expr: "$uppercase(department)" }], onDelete: "delete" });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { config: { onDelete: string; mapping: unknown[] } }).config).toMatchObject({ onDelete: "delete" });
  });

  it("deactivate and activate follow the states; invalid transitions are 409", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const post = (action: string) => call(`/v1/integrations/${i.id}/${action}`, { method: "POST", token: t.apiKey });
    expect((await post("activate")).status).toBe(409);
    expect((await post("deactivate")).status).toBe(409);
    await connectThroughProvider(t, i.id, "admin@acme.example");
    expect((await post("activate")).status).toBe(409);
    const off = await post("deactivate");
    expect(off.status).toBe(200);
    expect(((await off.json()) as { status: string }).status).toBe("deactivated");
    expect((await post("deactivate")).status).toBe(409);
    const on = await post("activate");
    expect(((await on.json()) as { status: string }).status).toBe("active");
  });

  it("a Zoho Connect integration stays pending until its group rules are reviewed (its only network is chosen at connect)", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-connect" });
    await connectThroughProvider(t, i.id, "admin@acme.example");
    const connected = (await (await call(`/v1/integrations/${i.id}`, { token: t.apiKey })).json()) as { status: string; pendingActions: string[] };
    expect(connected).toMatchObject({ status: "pending", pendingActions: ["review-group-rules"] });
    const configured = await call(`/v1/integrations/${i.id}`, { method: "PATCH", json: { config: { groupRulesReviewed: true } }, token: t.apiKey });
    expect(await configured.json()).toMatchObject({ status: "active", pendingActions: [] });
  });

  it("a provider's own config key belongs to that provider: another provider's integration refuses it", async () => {
    const t = await createTenant();
    const crm = await call("/v1/integrations", { method: "POST", json: { provider: "zoho-crm", config: { networkId: "105000000001" } }, token: t.apiKey });
    expect(crm.status).toBe(422);
    expect(((await crm.json()) as { errors: { path: string }[] }).errors).toEqual([expect.objectContaining({ path: "config.networkId" })]);
    const connect = await call("/v1/integrations", { method: "POST", json: { provider: "zoho-connect", config: { networkId: "not a number" } }, token: t.apiKey });
    expect(((await connect.json()) as { errors: { path: string; message: string }[] }).errors).toEqual([{ path: "config.networkId", message: "Expected a Zoho Connect network id." }]);
    // Each provider publishes the schema of its own config.
    const providers = (await (await call("/v1/providers", { token: t.apiKey })).json()) as { id: string; configSchema: { properties: Record<string, unknown> } }[];
    expect(Object.keys(providers.find((p) => p.id === "zoho-connect")!.configSchema.properties)).toContain("networkId");
    expect(Object.keys(providers.find((p) => p.id === "zoho-crm")!.configSchema.properties)).not.toContain("networkId");
  });
});

describe("OAuth connect", () => {
  it("connects a US account: authorize URL per Zoho, callback stores credentials, integration active", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const { result, authorizeUrl, callback } = await connectThroughProvider(t, i.id, "admin@acme.example");
    const url = new URL(authorizeUrl);
    expect(url.origin + url.pathname).toBe(`${EMU}/zoho/us/accounts/oauth/v2/auth`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: env.ZOHO_CLIENT_ID,
      response_type: "code",
      redirect_uri: "http://hub.test/oauth/callback",
      access_type: "offline",
      prompt: "consent",
      scope: "ZohoCRM.modules.contacts.ALL,ZohoCRM.coql.READ,ZohoCRM.org.READ,ZohoCRM.settings.fields.READ,ZohoCRM.users.READ",
    });
    expect(callback.searchParams.get("location")).toBe("us");
    expect(result.status).toBe(302);
    expect(result.headers.get("location")).toMatch(new RegExp(`^http://hub\\.test/dashboard/integrations/${i.id}\\?connected=[\\w.-]+$`));
    const after = (await (await call(`/v1/integrations/${i.id}`, { token: t.apiKey })).json()) as Record<string, any>;
    expect(after).toMatchObject({ status: "active", pendingActions: [], connection: { accountsServer: `${EMU}/zoho/us/accounts`, apiDomain: `${EMU}/zoho/us/api`, dataCenter: "us" } });
  });

  it("connects an EU account through Zoho's multi-DC redirect; API calls then go to the EU API domain", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const { result, hops, callback } = await connectThroughProvider(t, i.id, "admin@acme-eu.example");
    expect(hops[0]).toContain("/zoho/eu/accounts/oauth/v2/auth");
    expect(callback.searchParams.get("accounts-server")).toBe(`${EMU}/zoho/eu/accounts`);
    expect(result.status).toBe(302);
    const db = createDb(env.DB);
    const integration = (await getIntegration(db, t.id, i.id))!;
    expect(integration.connection).toMatchObject({ dataCenter: "eu", apiDomain: `${EMU}/zoho/eu/api`, accountsServer: `${EMU}/zoho/eu/accounts` });
    await emu("/_emulator/calls", { method: "DELETE" });
    const { token } = await getAccessToken(db, env, integration);
    const org = await fetch(`${integration.connection!.apiDomain}/crm/v8/org`, { headers: { authorization: `Zoho-oauthtoken ${token}` } });
    expect(((await org.json()) as { org: { id: string }[] }).org[0]!.id).toBe("800000001");
    expect((await calls()).calls).toEqual({ "GET /zoho/eu/api/crm/v8/org": 1 });
  });

  it("Security: stored credentials are not readable as plaintext", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    await connectThroughProvider(t, i.id, "admin@acme.example");
    const tokens = (await (await emu("/_emulator/tokens")).json()) as { zoho: { refreshTokens: { token: string }[] } };
    const refresh = tokens.zoho.refreshTokens[0]!.token;
    const { token: access } = await getAccessToken(createDb(env.DB), env, (await getIntegration(createDb(env.DB), t.id, i.id))!);
    const row = await credentialRow(i.id);
    const raw = JSON.stringify(row);
    expect(row).not.toBeNull();
    expect(raw).not.toContain(refresh);
    expect(raw).not.toContain(access);
    expect(raw).not.toContain(refresh.split(".")[1]!);
    expect(row!.access_token_enc).toMatch(/^v1\./);
  });
});

describe("Security: bad callbacks answer 400 and store nothing", () => {
  async function expectNothingStored(integrationId: string) {
    expect(await credentialRow(integrationId)).toBeNull();
  }

  it("a tampered state", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const { result } = await connectThroughProvider(t, i.id, "admin@acme.example", (cb) => {
      const state = cb.searchParams.get("state")!;
      const [h, p, s] = state.split(".");
      const claims = JSON.parse(atob(p!.replace(/-/g, "+").replace(/_/g, "/")));
      claims.iid = "int_someone_else";
      const forged = btoa(JSON.stringify(claims)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      cb.searchParams.set("state", `${h}.${forged}.${s}`);
    });
    expect(result.status).toBe(400);
    expect((await problem(result)).status).toBe(400);
    await expectNothingStored(i.id);
  });

  it("an expired state: past the JWT's expiry, or past the nonce's", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    // A state signed with the right secret whose 10 minutes are over.
    const nonce = "expired-nonce";
    await env.DB.prepare("INSERT INTO oauth_states (nonce, tenant_id, integration_id, expires_at) VALUES (?, ?, ?, ?)").bind(nonce, t.id, i.id, Date.now() + 600_000).run();
    const past = Math.floor(Date.now() / 1000) - 3600;
    const stale = await new SignJWT({ tid: t.id, iid: i.id, nonce })
      .setProtectedHeader({ alg: "HS256" })
      .setAudience("usersync:oauth-state")
      .setIssuedAt(past)
      .setExpirationTime(past + 600)
      .sign(new TextEncoder().encode(env.SESSION_SECRET));
    const answer = await call(`/oauth/callback?code=1000.x&state=${stale}`);
    expect(answer.status).toBe(400);
    await expectNothingStored(i.id);
  });

  it("a state whose nonce has expired", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const res = await call(`/v1/integrations/${i.id}/connect`, { method: "POST", token: t.apiKey });
    const { authorizeUrl } = (await res.json()) as { authorizeUrl: string };
    const state = new URL(authorizeUrl).searchParams.get("state")!;
    await env.DB.prepare("UPDATE oauth_states SET expires_at = ? WHERE integration_id = ?").bind(Date.now() - 1, i.id).run();
    const answer = await call(`/oauth/callback?code=1000.x&state=${state}`);
    expect(answer.status).toBe(400);
    await expectNothingStored(i.id);
  });

  it("a reused state", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const { result, callback } = await connectThroughProvider(t, i.id, "admin@acme.example");
    expect(result.status).toBe(302);
    await env.DB.prepare("DELETE FROM integration_credentials WHERE integration_id = ?").bind(i.id).run();
    const again = await call(`${callback.pathname}${callback.search}`);
    expect(again.status).toBe(400);
    expect((await problem(again)).detail).toMatch(/already used|expired/);
    await expectNothingStored(i.id);
  });

  it("a denied consent", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const { result } = await connectThroughProvider(t, i.id, "admin@acme.example", (cb) => {
      cb.searchParams.delete("code");
      cb.searchParams.set("error", "access_denied");
    });
    expect(result.status).toBe(400);
    expect((await problem(result)).detail).toContain("access_denied");
    await expectNothingStored(i.id);
  });

  it("an accounts server that is not a configured data centre", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const { result } = await connectThroughProvider(t, i.id, "admin@acme.example", (cb) => {
      cb.searchParams.set("accounts-server", "https://accounts.evil.example");
    });
    expect(result.status).toBe(400);
    expect((await problem(result)).detail).toMatch(/not one of the configured Zoho data centres/);
    await expectNothingStored(i.id);
    expect((await calls()).calls["POST /zoho/us/accounts/oauth/v2/token"]).toBeUndefined();
  });
});

describe("shared token refresh", () => {
  async function connected() {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    await connectThroughProvider(t, i.id, "admin@acme.example");
    const db = createDb(env.DB);
    return { t, db, integration: (await getIntegration(db, t.id, i.id))! };
  }

  it("25 concurrent token requests after expiry cause exactly one refresh", async () => {
    const { db, integration } = await connected();
    await env.DB.prepare("UPDATE integration_credentials SET access_expires_at = ? WHERE integration_id = ?").bind(Date.now() - 1000, integration.id).run();
    await emu("/_emulator/calls", { method: "DELETE" });
    const tokens = await Promise.all(Array.from({ length: 25 }, () => getAccessToken(db, env, integration)));
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect((await calls()).calls["POST /zoho/us/accounts/oauth/v2/token"]).toBe(1);
    const org = await fetch(`${integration.connection!.apiDomain}/crm/v8/org`, { headers: { authorization: `Zoho-oauthtoken ${tokens[0]!.token}` } });
    expect(org.status).toBe(200);
  });

  it("a token the provider refused is replaced once, however many callers report it", async () => {
    const { db, integration } = await connected();
    const first = await getAccessToken(db, env, integration);
    await emu("/_emulator/tokens/expire", { method: "POST" });
    await emu("/_emulator/calls", { method: "DELETE" });
    const next = await Promise.all(Array.from({ length: 25 }, () => getAccessToken(db, env, integration, { rejectedVersion: first.version })));
    expect(new Set(next.map((t) => t.token)).size).toBe(1);
    expect(next[0]!.version).toBe(first.version + 1);
    expect((await calls()).calls["POST /zoho/us/accounts/oauth/v2/token"]).toBe(1);
  });

  it("a revoked refresh token moves the integration to pending with reconnect, and reconnecting makes it active again", async () => {
    const { t, db, integration } = await connected();
    await emu("/_emulator/tokens/revoke", { method: "POST", json: {} });
    await env.DB.prepare("UPDATE integration_credentials SET access_expires_at = ? WHERE integration_id = ?").bind(Date.now() - 1000, integration.id).run();
    await expect(getAccessToken(db, env, integration)).rejects.toBeInstanceOf(ReauthRequired);
    const after = (await (await call(`/v1/integrations/${integration.id}`, { token: t.apiKey })).json()) as Record<string, any>;
    expect(after).toMatchObject({ status: "pending", pendingActions: ["reconnect"] });
    expect(after.lastError).toMatch(/rejected the refresh token/);
    expect(await credentialRow(integration.id)).toBeNull();
    const { result } = await connectThroughProvider(t, integration.id, "admin@acme.example");
    expect(result.status).toBe(302);
    expect(await (await call(`/v1/integrations/${integration.id}`, { token: t.apiKey })).json()).toMatchObject({ status: "active", pendingActions: [], lastError: null });
  });
});

describe("delete", () => {
  it("revokes the refresh token at the provider and removes credentials and links (sensitive)", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    await connectThroughProvider(t, i.id, "admin@acme.example");
    await env.DB.prepare("INSERT INTO links (tenant_id, integration_id, user_id, status, updated_at) VALUES (?, ?, 'u1', 'synced', 0)").bind(t.id, i.id).run();
    const res = await call(`/v1/integrations/${i.id}`, { method: "DELETE", token: t.apiKey });
    expect(res.status).toBe(204);
    const tokens = (await (await emu("/_emulator/tokens")).json()) as { zoho: { refreshTokens: { revoked: boolean }[] } };
    expect(tokens.zoho.refreshTokens.every((r) => r.revoked)).toBe(true);
    expect((await calls()).calls["POST /zoho/us/accounts/oauth/v2/token/revoke"]).toBe(1);
    expect(await credentialRow(i.id)).toBeNull();
    const links = await env.DB.prepare("SELECT count(*) AS n FROM links WHERE integration_id = ?").bind(i.id).first<{ n: number }>();
    expect(links!.n).toBe(0);
    expect((await call(`/v1/integrations/${i.id}`, { token: t.apiKey })).status).toBe(404);
  });
});

describe("Security: another tenant's integration id is a 404 on every route", () => {
  it("404s", async () => {
    const owner = await createTenant("Owner");
    const other = await createTenant("Other");
    const i = await createIntegration(owner, { provider: "zoho-crm" });
    const routes: [string, string, unknown?][] = [
      ["GET", `/v1/integrations/${i.id}`],
      ["PATCH", `/v1/integrations/${i.id}`, { name: "mine now" }],
      ["DELETE", `/v1/integrations/${i.id}`],
      ["POST", `/v1/integrations/${i.id}/connect`],
      ["POST", `/v1/integrations/${i.id}/deactivate`],
      ["POST", `/v1/integrations/${i.id}/activate`],
    ];
    for (const [method, path, json] of routes) {
      const res = await call(path, { method, token: other.apiKey, ...(json ? { json } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const list = (await (await call("/v1/integrations", { token: other.apiKey })).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
    expect(((await (await call(`/v1/integrations/${i.id}`, { token: owner.apiKey })).json()) as { name: string }).name).toBe("Zoho CRM");
  });
});
