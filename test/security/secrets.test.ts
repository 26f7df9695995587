import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDb } from "../../src/db/client";
import { getAccessToken } from "../../src/integrations/tokens";
import { getIntegration } from "../../src/integrations/store";
import { call, eventually, OPERATOR_TOKEN, sessionCookie, type TestTenant } from "../helpers";
import { EMU, emu } from "../emulators/helpers";
import { connectThroughProvider, createIntegration } from "../integrations/helpers";
import { linkIn, send } from "../sync/helpers";

/**
 * Security (issue #20): no secret ever leaves the hub. A whole scenario runs — a tenant, a
 * Zoho CRM connect, people through webhooks and REST, a person the CRM refuses, a
 * `before` handler, signed `after` events, a secret rotated, the dashboard's pages — while
 * every log line and every response is captured. Then the captures, every row of every D1
 * table (sync logs, handler logs and events included) and every event the receiver got
 * are scanned for each secret the test knows: the API key, the webhook, SSO and event
 * secrets (and their key bytes), the access and refresh tokens, the client secrets, the
 * encryption key, the session secret and the operator token. The only answers allowed to
 * hold one are those that hand it out: the tenant's creation and a rotation.
 */

const logged: string[] = [];
const answered: string[] = [];

beforeAll(() => {
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    const real = console[level].bind(console);
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
      real(...args);
    });
  }
});

afterAll(() => {
  vi.restoreAllMocks();
});

/** Calls the hub and keeps the answer's headers and body for the scan. */
async function seen(path: string, init: Parameters<typeof call>[1] = {}): Promise<Response> {
  const res = await call(path, init);
  answered.push(`${path} ${res.status} ${JSON.stringify([...res.headers])} ${await res.clone().text()}`);
  return res;
}

/** Every row of every table, as one text. */
async function everyRow(): Promise<string> {
  const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name").all<{ name: string }>();
  const parts: string[] = [];
  for (const { name } of tables.results) parts.push(JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results));
  return parts.join("\n");
}

/** A secret and the forms it could leak in: whole, and the key bytes after a `whsec_`-style prefix. */
function forms(name: string, value: string | undefined): [string, string][] {
  if (!value) return [];
  const out: [string, string][] = [[name, value]];
  const key = /^[a-z]+_(.{16,})$/.exec(value)?.[1];
  if (key) out.push([`${name} (key part)`, key]);
  return out;
}

describe("Security: secrets", () => {
  it("no secret appears in a response, a log line, a sync log, a handler log, an event or any stored row", async () => {
    // A tenant, made as the operator would: its answer hands the secrets out, once.
    const made = await call("/v1/tenants", { method: "POST", json: { name: "Secretive" }, token: OPERATOR_TOKEN });
    expect(made.status).toBe(201);
    const created = (await made.json()) as { tenant: { id: string }; apiKey: string; webhookSecret: string; ssoSecret: string; eventSecret: string };
    const t: TestTenant = { id: created.tenant.id, apiKey: created.apiKey, webhookSecret: created.webhookSecret, ssoSecret: created.ssoSecret, eventSecret: created.eventSecret };
    const old = { ...t };

    // Connected to Zoho CRM, with a before handler and an after receiver.
    const i = await createIntegration(t, { provider: "zoho-crm" });
    await connectThroughProvider(t, i.id, "admin@acme.example");
    const receiver = crypto.randomUUID();
    expect((await emu(`/_emulator/receivers/${receiver}`, { method: "PUT", json: { secret: t.eventSecret, answers: [500] } })).status).toBe(200);
    const config = { handlers: { before: { expr: 'user.role = "contractor" ? null : user' }, after: { url: `${EMU}/receivers/${receiver}`, events: ["user.synced", "user.failed", "user.excluded"] } } };
    expect((await seen(`/v1/integrations/${i.id}`, { method: "PATCH", json: { config }, token: t.apiKey })).status).toBe(200);

    // People: by webhook, by REST, one the handler skips, one the CRM refuses (a name too long for it).
    await send(t, "user.created", { id: "s_ada", email: "ada@secret.example", firstName: "Ada", lastName: "Lovelace" });
    await send(t, "user.created", { id: "s_con", email: "con@secret.example", lastName: "Tractor", role: "contractor" });
    await seen("/v1/directory/users/s_bob", { method: "PUT", json: { id: "s_bob", email: "bob@secret.example", lastName: "B".repeat(200) }, token: t.apiKey });
    await linkIn(i.id, "s_ada", ["synced"], 30_000);
    await linkIn(i.id, "s_bob", ["failed", "synced"], 30_000);
    await eventually(async () => {
      const d = (await (await emu(`/_emulator/receivers/${receiver}`)).json()) as { deliveries: unknown[] };
      return d.deliveries.length >= 2 ? true : undefined;
    }, 30_000);

    // A bad OAuth callback and a bad sign-in: errors on the way.
    await seen("/oauth/callback?code=stolen&state=forged");
    await seen("/auth/sso?token=not.a.token");
    await seen("/v1/tenant", { token: `${t.apiKey}x` });

    // Everything an admin reads, by API and on the dashboard.
    for (const path of ["/v1/tenant", `/v1/integrations/${i.id}`, "/v1/integrations", `/v1/integrations/${i.id}/links`, `/v1/integrations/${i.id}/logs`, `/v1/integrations/${i.id}/handler-logs`, `/v1/integrations/${i.id}/links.csv`, "/v1/directory/users", "/v1/directory/users/s_ada", "/v1/runs", "/v1/providers"]) {
      expect((await seen(path, { token: t.apiKey })).status).toBe(200);
    }
    const cookie = await sessionCookie(t);
    for (const path of ["/dashboard", `/dashboard/integrations/${i.id}`, `/dashboard/integrations/${i.id}/logs`, "/dashboard/users", "/dashboard/users/s_ada", "/dashboard/runs", "/dashboard/imports"]) {
      expect((await seen(path, { headers: { cookie, accept: "text/html" } })).status).toBe(200);
    }

    // A rotation hands out the new event secret once; the old one is still a secret.
    const rotated = await call("/v1/secrets/rotate", { method: "POST", json: { which: "eventSecret" }, token: t.apiKey });
    expect(rotated.status).toBe(200);
    const newEventSecret = ((await rotated.json()) as { value: string }).value;
    expect(newEventSecret).toMatch(/^whsec_/);

    // The tokens the emulator issued, read from the emulator and from the hub's own store.
    const tokens = (await (await emu("/_emulator/tokens")).json()) as { zoho: { refreshTokens: { token: string }[] } };
    const db = createDb(env.DB);
    const { token: access } = await getAccessToken(db, env, (await getIntegration(db, t.id, i.id))!);
    const deliveries = JSON.stringify(await (await emu(`/_emulator/receivers/${receiver}`)).json());

    // Zoho revokes the grant: the next push finds out, in the queue consumer, and says so in a log line.
    await emu("/_emulator/tokens/revoke", { method: "POST", json: {} });
    await env.DB.prepare("UPDATE integration_credentials SET access_expires_at = ? WHERE integration_id = ?").bind(Date.now() - 1000, i.id).run();
    await send(t, "user.updated", { id: "s_ada", email: "ada@secret.example", firstName: "Ada", lastName: "King" });
    await eventually(async () => (logged.some((l) => l.includes("integration needs reconnecting")) ? true : undefined), 30_000);

    const secrets: [string, string][] = [
      ...forms("API key", old.apiKey),
      ...forms("webhook secret", old.webhookSecret),
      ...forms("SSO secret", old.ssoSecret),
      ...forms("event secret", old.eventSecret),
      ...forms("rotated event secret", newEventSecret),
      ...forms("access token", access),
      ...tokens.zoho.refreshTokens.flatMap((r, n) => forms(`refresh token ${n}`, r.token)),
      ...forms("Zoho client secret", env.ZOHO_CLIENT_SECRET),
      ...forms("Microsoft client secret", env.MICROSOFT_CLIENT_SECRET),
      ...forms("encryption key", env.ENCRYPTION_KEY),
      ...forms("session secret", env.SESSION_SECRET),
      ...forms("operator token", env.OPERATOR_TOKEN),
    ];
    expect(secrets.length).toBeGreaterThanOrEqual(14);
    // The hub's own lines were captured, the queue consumer's included.
    expect(logged.some((l) => l.includes('"level":"warn"') && l.includes(i.id))).toBe(true);
    const places = { "a log line": logged.join("\n"), "a response": answered.join("\n"), "a stored row": await everyRow(), "an event the receiver got": deliveries };
    const leaks: string[] = [];
    for (const [place, text] of Object.entries(places)) for (const [name, value] of secrets) if (text.includes(value)) leaks.push(`${name} in ${place}`);
    expect(leaks).toEqual([]);
  }, 120_000);
});
