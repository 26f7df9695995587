import { beforeEach, describe, expect, it } from "vitest";
import { emu, EMU, MS_CLIENT, resetEmulator } from "./helpers";

const LOGIN = () => `${EMU}/microsoft/login`;
const GRAPH = () => `${EMU}/microsoft/graph/v1.0`;
const SCOPES = "openid offline_access User.Read.All Contacts.ReadWrite Calendars.ReadWrite";

beforeEach(() => resetEmulator());

async function pkce() {
  const verifier = "v".repeat(20) + crypto.randomUUID();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const challenge = btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return { verifier, challenge };
}

async function authorize(challenge: string, extra: Record<string, string> = { auto_approve: "1" }) {
  const q = new URLSearchParams({ client_id: MS_CLIENT.id, response_type: "code", redirect_uri: MS_CLIENT.redirect, response_mode: "query", scope: SCOPES, state: "xyz", code_challenge: challenge, code_challenge_method: "S256", ...extra });
  return emu(`${LOGIN()}/organizations/oauth2/v2.0/authorize?${q}`);
}

function token(params: Record<string, string>) {
  return emu(`${LOGIN()}/organizations/oauth2/v2.0/token`, { method: "POST", body: new URLSearchParams({ client_id: MS_CLIENT.id, client_secret: MS_CLIENT.secret, ...params }) });
}

async function accessToken(scope = SCOPES): Promise<string> {
  const { verifier, challenge } = await pkce();
  const code = new URL((await authorize(challenge, { auto_approve: "1", scope })).headers.get("location")!).searchParams.get("code")!;
  const body = (await (await token({ grant_type: "authorization_code", code, redirect_uri: MS_CLIENT.redirect, code_verifier: verifier })).json()) as { access_token: string };
  return body.access_token;
}

function graph(tokenValue: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${tokenValue}`);
  return emu(path.startsWith("http") ? path : `${GRAPH()}${path}`, { ...init, headers });
}

describe("Microsoft identity emulator", () => {
  it("shows a consent page; Deny redirects with access_denied", async () => {
    const { challenge } = await pkce();
    const page = await authorize(challenge, {});
    expect(await page.text()).toContain('id="allow"');
    const q = new URLSearchParams({ client_id: MS_CLIENT.id, response_type: "code", redirect_uri: MS_CLIENT.redirect, scope: SCOPES, state: "xyz", decision: "deny" });
    const denied = await emu(`${LOGIN()}/organizations/oauth2/v2.0/authorize`, { method: "POST", body: q });
    expect(new URL(denied.headers.get("location")!).searchParams.get("error")).toBe("access_denied");
  });

  it("exchanges a code with the right PKCE verifier for the documented JSON, and refreshes with a new refresh token", async () => {
    const { verifier, challenge } = await pkce();
    const redirect = new URL((await authorize(challenge)).headers.get("location")!);
    expect(redirect.searchParams.get("state")).toBe("xyz");
    const code = redirect.searchParams.get("code")!;
    const wrong = await token({ grant_type: "authorization_code", code, redirect_uri: MS_CLIENT.redirect, code_verifier: "wrong-verifier-wrong-verifier-wrong" });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe("invalid_grant");
    const ok = (await (await token({ grant_type: "authorization_code", code, redirect_uri: MS_CLIENT.redirect, code_verifier: verifier })).json()) as Record<string, any>;
    expect(ok).toMatchObject({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599 });
    expect(ok.access_token).toBeTruthy();
    expect(ok.refresh_token).toBeTruthy();
    expect(JSON.parse(atob(ok.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")))).toMatchObject({ tid: "11111111-2222-4333-8444-555555555555" });
    const again = await token({ grant_type: "authorization_code", code, redirect_uri: MS_CLIENT.redirect, code_verifier: verifier });
    expect(again.status).toBe(400);
    const refreshed = (await (await token({ grant_type: "refresh_token", refresh_token: ok.refresh_token })).json()) as Record<string, any>;
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(ok.refresh_token);
    const badSecret = await emu(`${LOGIN()}/organizations/oauth2/v2.0/token`, { method: "POST", body: new URLSearchParams({ client_id: MS_CLIENT.id, client_secret: "nope", grant_type: "refresh_token", refresh_token: ok.refresh_token }) });
    expect(badSecret.status).toBe(401);
  });

  it("admin consent redirects with admin_consent=True and the tenant, without a code", async () => {
    const q = new URLSearchParams({ client_id: MS_CLIENT.id, scope: "https://graph.microsoft.com/.default", redirect_uri: MS_CLIENT.redirect, state: "adm", auto_approve: "1" });
    const res = await emu(`${LOGIN()}/organizations/v2.0/adminconsent?${q}`);
    const url = new URL(res.headers.get("location")!);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ admin_consent: "True", tenant: "11111111-2222-4333-8444-555555555555", state: "adm" });
    expect(url.searchParams.get("code")).toBeNull();
  });
});

describe("Microsoft Graph emulator", () => {
  it("401 without a valid token", async () => {
    const res = await graph("nope", "/users/delta");
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("InvalidAuthenticationToken");
  });

  it("users/delta: pages with nextLink to a deltaLink; later rounds carry changes and @removed", async () => {
    const t = await accessToken();
    let url = `${GRAPH()}/users/delta?$select=displayName,mail,department,accountEnabled`;
    const seen: Record<string, unknown>[] = [];
    let deltaLink = "";
    for (let pages = 0; pages < 10 && !deltaLink; pages++) {
      const page = (await (await graph(t, url, { headers: { prefer: "odata.maxpagesize=50" } })).json()) as Record<string, any>;
      seen.push(...page.value);
      if (page["@odata.nextLink"]) url = page["@odata.nextLink"];
      else deltaLink = page["@odata.deltaLink"];
    }
    expect(seen).toHaveLength(200);
    expect(Object.keys(seen[0]!).sort()).toEqual(["accountEnabled", "department", "displayName", "id", "mail"]);
    expect(deltaLink).toContain("$deltatoken=");

    const nothing = (await (await graph(t, deltaLink)).json()) as { value: unknown[] };
    expect(nothing.value).toEqual([]);

    const ids = seen.map((u) => String(u.id));
    await emu(`/_emulator/microsoft/users/${ids[0]}`, { method: "PATCH", json: { department: "Research" } });
    await emu(`/_emulator/microsoft/users/${ids[1]}`, { method: "DELETE" });
    await emu(`/_emulator/microsoft/users/${ids[2]}?soft=1`, { method: "DELETE" });
    const added = (await (await emu("/_emulator/microsoft/users", { method: "POST", json: { displayName: "New Person", mail: "new@acme.onmicrosoft.example" } })).json()) as { id: string };
    const changes = (await (await graph(t, deltaLink)).json()) as { value: Record<string, any>[] };
    expect(changes.value).toEqual([
      expect.objectContaining({ id: ids[0], department: "Research" }),
      { id: ids[1], "@removed": { reason: "deleted" } },
      { id: ids[2], "@removed": { reason: "changed" } },
      expect.objectContaining({ id: added.id, displayName: "New Person" }),
    ]);
  });

  it("$deltaToken=latest gives a deltaLink without the full sync; an expired token answers 410", async () => {
    const t = await accessToken();
    const latest = (await (await graph(t, "/users/delta?$deltaToken=latest")).json()) as Record<string, any>;
    expect(latest.value).toEqual([]);
    await emu("/_emulator/microsoft/delta/expire", { method: "POST" });
    const gone = await graph(t, latest["@odata.deltaLink"]);
    expect(gone.status).toBe(410);
    expect(gone.headers.get("location")).toContain("/users/delta");
  });

  it("mailbox routes answer 403 without the scope and 404 ErrorInvalidUser for an unknown user", async () => {
    const uid = ((await (await emu("/_emulator/microsoft/users")).json()) as { users: { id: string }[] }).users[0]!.id;
    const code = async (res: Response) => [res.status, ((await res.json()) as { error: { code: string } }).error.code];
    const usersOnly = await accessToken("openid offline_access User.Read.All");
    expect(await code(await graph(usersOnly, `/users/${uid}/contactFolders`))).toEqual([403, "Authorization_RequestDenied"]);
    expect(await code(await graph(usersOnly, `/users/${uid}/calendars`, { method: "POST", json: { name: "Zoho CRM" } }))).toEqual([403, "Authorization_RequestDenied"]);
    const t = await accessToken();
    for (const [path, init] of [
      ["/users/nobody/contactFolders", {}],
      ["/users/nobody/contactFolders", { method: "POST", json: { displayName: "Zoho CRM Contacts" } }],
      ["/users/nobody/calendars", {}],
      ["/users/nobody/calendars", { method: "POST", json: { name: "Zoho CRM" } }],
    ] as const) {
      expect(await code(await graph(t, path, init))).toEqual([404, "ErrorInvalidUser"]);
    }
  });

  it("contact folders and contacts with delta; deleting the folder removes its contacts", async () => {
    const t = await accessToken();
    const users = (await (await emu("/_emulator/microsoft/users")).json()) as { users: { id: string }[] };
    const uid = users.users[0]!.id;
    const folder = (await (await graph(t, `/users/${uid}/contactFolders`, { method: "POST", json: { displayName: "Zoho CRM Contacts" } })).json()) as { id: string };
    const contact = (await (await graph(t, `/users/${uid}/contactFolders/${folder.id}/contacts`, { method: "POST", json: { givenName: "Ada", surname: "Lovelace", emailAddresses: [{ address: "ada@hub.example" }] } })).json()) as { id: string };
    const first = (await (await graph(t, `/users/${uid}/contactFolders/${folder.id}/contacts/delta`)).json()) as Record<string, any>;
    expect(first.value).toEqual([expect.objectContaining({ id: contact.id, givenName: "Ada" })]);
    await graph(t, `/users/${uid}/contacts/${contact.id}`, { method: "PATCH", json: { jobTitle: "Analyst" } });
    const second = (await (await graph(t, first["@odata.deltaLink"])).json()) as Record<string, any>;
    expect(second.value).toEqual([expect.objectContaining({ id: contact.id, jobTitle: "Analyst" })]);
    expect((await graph(t, `/users/${uid}/contactFolders/${folder.id}`, { method: "DELETE" })).status).toBe(204);
    const folders = (await (await graph(t, `/users/${uid}/contactFolders`)).json()) as { value: unknown[] };
    expect(folders.value).toEqual([]);
    expect((await graph(t, `/users/${uid}/contacts/${contact.id}`, { method: "PATCH", json: {} })).status).toBe(404);
  });

  it("calendars, events and calendarView/delta, with events that leave the window removed", async () => {
    const t = await accessToken();
    const uid = ((await (await emu("/_emulator/microsoft/users")).json()) as { users: { id: string }[] }).users[0]!.id;
    const cal = (await (await graph(t, `/users/${uid}/calendars`, { method: "POST", json: { name: "Zoho CRM" } })).json()) as { id: string };
    const event = (await (await graph(t, `/users/${uid}/calendars/${cal.id}/events`, { method: "POST", json: { subject: "Demo", start: { dateTime: "2026-12-01T10:00:00", timeZone: "UTC" }, end: { dateTime: "2026-12-01T11:00:00", timeZone: "UTC" } } })).json()) as { id: string };
    const window = "startDateTime=2026-11-01T00:00:00Z&endDateTime=2027-01-01T00:00:00Z";
    expect((await graph(t, `/users/${uid}/calendarView/delta`)).status).toBe(400);
    const first = (await (await graph(t, `/users/${uid}/calendarView/delta?${window}`)).json()) as Record<string, any>;
    expect(first.value).toEqual([expect.objectContaining({ id: event.id, subject: "Demo" })]);
    await graph(t, `/users/${uid}/events/${event.id}`, { method: "PATCH", json: { start: { dateTime: "2027-03-01T10:00:00", timeZone: "UTC" }, end: { dateTime: "2027-03-01T11:00:00", timeZone: "UTC" } } });
    const moved = (await (await graph(t, first["@odata.deltaLink"])).json()) as Record<string, any>;
    expect(moved.value).toEqual([{ id: event.id, "@removed": { reason: "deleted" } }]);
  });
});
