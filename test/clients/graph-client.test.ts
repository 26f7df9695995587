import { createHash, randomUUID } from "node:crypto";
import { Client, HTTPMessageHandler, RetryHandler, RetryHandlerOptions, type Context, type Middleware } from "@microsoft/microsoft-graph-client";
import { beforeAll, describe, expect, inject, it } from "vitest";

// Microsoft's Graph client, unmodified, with the emulator as its base URL: users delta,
// contacts and events as the hub will use them. If the client can walk these, the
// emulator answers as Graph does. The emulator speaks http on loopback, and the client
// treats only https URLs as Graph's: its authentication handler sends tokens to https
// Graph hosts only, so the token is added by a middleware in the client's documented
// middleware chain (its retry and HTTP handlers are the library's own); and it takes only
// https links as absolute, so nextLink and deltaLink are handed back as paths.

/** Adds the bearer token to every request, as the library's AuthenticationHandler does for Graph hosts. */
class BearerToken implements Middleware {
  private next?: Middleware;
  constructor(private readonly token: string) {}
  async execute(context: Context): Promise<void> {
    const headers = new Headers(context.options?.headers as HeadersInit | undefined);
    headers.set("Authorization", `Bearer ${this.token}`);
    context.options = { ...context.options, headers: Object.fromEntries(headers) };
    if (context.request instanceof Request) context.request.headers.set("Authorization", `Bearer ${this.token}`);
    await this.next!.execute(context);
  }
  setNext(next: Middleware): void {
    this.next = next;
  }
}

const EMU = inject("emulatorUrl");
const CLIENT = { id: "00000000-0000-0000-0000-00000000e001", secret: "emulator-microsoft-secret", redirect: "http://hub.test/oauth/callback" };
const SCOPES = "openid offline_access User.Read.All Contacts.ReadWrite Calendars.ReadWrite";
let client: Client;
let uid: string;

/** A nextLink or deltaLink as the path the client takes (below the version). */
const path = (link: string) => link.slice(link.indexOf("/v1.0/") + "/v1.0".length);

/** An access token from the authorization-code flow with PKCE (consent auto-approved by the emulator). */
async function accessToken(): Promise<string> {
  const verifier = `v${randomUUID()}${randomUUID()}`;
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const q = new URLSearchParams({ client_id: CLIENT.id, response_type: "code", redirect_uri: CLIENT.redirect, response_mode: "query", scope: SCOPES, state: "s", code_challenge: challenge, code_challenge_method: "S256", auto_approve: "1" });
  const consent = await fetch(`${EMU}/microsoft/login/organizations/oauth2/v2.0/authorize?${q}`, { redirect: "manual" });
  const code = new URL(consent.headers.get("location")!).searchParams.get("code")!;
  const res = await fetch(`${EMU}/microsoft/login/organizations/oauth2/v2.0/token`, {
    method: "POST",
    body: new URLSearchParams({ client_id: CLIENT.id, client_secret: CLIENT.secret, grant_type: "authorization_code", code, redirect_uri: CLIENT.redirect, code_verifier: verifier }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  await fetch(`${EMU}/_emulator/reset`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  const token = await accessToken();
  const auth = new BearerToken(token);
  const retry = new RetryHandler(new RetryHandlerOptions(0, 1));
  auth.setNext(retry);
  retry.setNext(new HTTPMessageHandler());
  client = Client.initWithMiddleware({ baseUrl: `${EMU}/microsoft/graph`, defaultVersion: "v1.0", middleware: auth });
  uid = ((await (await fetch(`${EMU}/_emulator/microsoft/users`)).json()) as { users: { id: string }[] }).users[0]!.id;
});

describe("Microsoft's Graph client against the emulator, unmodified", () => {
  it("pages through users/delta by nextLink to a deltaLink, then reads the changes", async () => {
    type Page = { value: { id: string; displayName: string }[]; "@odata.nextLink"?: string; "@odata.deltaLink"?: string };
    let page = (await client.api("/users/delta").select(["displayName", "mail", "department"]).header("Prefer", "odata.maxpagesize=50").get()) as Page;
    const seen = [...page.value];
    for (let pages = 1; page["@odata.nextLink"] && pages < 10; pages++) {
      page = (await client.api(path(page["@odata.nextLink"])).header("Prefer", "odata.maxpagesize=50").get()) as Page;
      seen.push(...page.value);
    }
    expect(seen).toHaveLength(200);
    expect(Object.keys(seen[0]!).sort()).toEqual(["department", "displayName", "id", "mail"]);
    const deltaLink = page["@odata.deltaLink"];
    expect(deltaLink).toContain("$deltatoken=");

    await fetch(`${EMU}/_emulator/microsoft/users/${seen[0]!.id}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ department: "Research" }) });
    await fetch(`${EMU}/_emulator/microsoft/users/${seen[1]!.id}`, { method: "DELETE" });
    const changes = (await client.api(path(deltaLink!)).get()) as { value: Record<string, unknown>[] };
    expect(changes.value).toEqual([expect.objectContaining({ id: seen[0]!.id, department: "Research" }), { id: seen[1]!.id, "@removed": { reason: "deleted" } }]);
  });

  it("creates a contact folder and a contact, follows contacts/delta, updates and deletes the contact", async () => {
    const folder = (await client.api(`/users/${uid}/contactFolders`).post({ displayName: "Zoho CRM Contacts" })) as { id: string };
    const contact = (await client.api(`/users/${uid}/contactFolders/${folder.id}/contacts`).post({ givenName: "Ada", surname: "Lovelace", emailAddresses: [{ address: "ada@hub.example" }] })) as { id: string };
    const first = (await client.api(`/users/${uid}/contactFolders/${folder.id}/contacts/delta`).get()) as { value: { id: string; givenName: string }[]; "@odata.deltaLink": string };
    expect(first.value).toEqual([expect.objectContaining({ id: contact.id, givenName: "Ada" })]);
    await client.api(`/users/${uid}/contacts/${contact.id}`).patch({ jobTitle: "Analyst" });
    const second = (await client.api(path(first["@odata.deltaLink"])).get()) as { value: Record<string, unknown>[] };
    expect(second.value).toEqual([expect.objectContaining({ id: contact.id, jobTitle: "Analyst" })]);
    await client.api(`/users/${uid}/contacts/${contact.id}`).delete();
    // Graph's errors reach the client as GraphError with the status and code.
    await expect(client.api(`/users/${uid}/contacts/${contact.id}`).patch({})).rejects.toMatchObject({ statusCode: 404 });
  });

  it("creates a calendar and an event and reads them through calendarView/delta", async () => {
    const calendar = (await client.api(`/users/${uid}/calendars`).post({ name: "Zoho CRM" })) as { id: string };
    const event = (await client.api(`/users/${uid}/calendars/${calendar.id}/events`).post({
      subject: "Demo",
      start: { dateTime: "2026-12-01T10:00:00", timeZone: "UTC" },
      end: { dateTime: "2026-12-01T11:00:00", timeZone: "UTC" },
    })) as { id: string };
    const view = (await client.api(`/users/${uid}/calendarView/delta`).query({ startDateTime: "2026-11-01T00:00:00Z", endDateTime: "2027-01-01T00:00:00Z" }).get()) as {
      value: { id: string; subject: string }[];
      "@odata.deltaLink": string;
    };
    expect(view.value).toEqual([expect.objectContaining({ id: event.id, subject: "Demo" })]);
    await client.api(`/users/${uid}/events/${event.id}`).patch({ subject: "Demo, moved" });
    const changed = (await client.api(path(view["@odata.deltaLink"])).get()) as { value: Record<string, unknown>[] };
    expect(changed.value).toEqual([expect.objectContaining({ id: event.id, subject: "Demo, moved" })]);
    await expect(client.api(`/users/${uid}/calendarView/delta`).get()).rejects.toMatchObject({ statusCode: 400 });
  });
});
