import { Hono, type Context } from "hono";
import { guid, world, type GraphItem } from "../state";

// Microsoft Graph v1.0: users/delta, contact folders and contacts with delta, calendars,
// events and calendarView/delta (microsoft-graph-docs-contrib: user-delta.md,
// contact-delta.md, event-delta.md, delta-query-overview.md).

export const graph = new Hono();

/** Delta tokens older than this instant answer 410 Gone (control: expire delta tokens). */
export const deltaTokens = { validAfter: 0 };

const DEFAULT_PAGE = 100;

function graphError(c: Context, status: 400 | 401 | 403 | 404 | 410, code: string, message: string) {
  return c.json({ error: { code, message, innerError: { date: new Date().toISOString(), "request-id": crypto.randomUUID() } } }, status);
}

function scopeName(s: string): string {
  return s.replace(/^https:\/\/graph\.microsoft\.com\//i, "").toLowerCase();
}

/** Bearer token check; `anyOf` are the permissions that allow the call. */
function authorize(c: Context, anyOf: string[]): Response | null {
  const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
  if (!match) return graphError(c, 401, "InvalidAuthenticationToken", "Access token is empty.");
  const token = world.microsoft.tokens.get(match[1]!);
  if (!token || token.kind !== "access" || token.revoked) return graphError(c, 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.");
  if (token.expiresAt <= Date.now()) return graphError(c, 401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.");
  const granted = token.scopes.map(scopeName);
  if (granted.includes(".default") || anyOf.some((s) => granted.includes(s.toLowerCase()))) return null;
  return graphError(c, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
}

interface DeltaState {
  since: number;
  upto: number;
  offset: number;
  minted: number;
  start?: string;
  end?: string;
}

function encodeToken(s: DeltaState): string {
  return btoa(JSON.stringify(s)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeToken(t: string): DeltaState | null {
  try {
    return JSON.parse(atob(t.replace(/-/g, "+").replace(/_/g, "/"))) as DeltaState;
  } catch {
    return null;
  }
}

function pageSize(c: Context): number {
  const m = /odata\.maxpagesize=(\d+)/i.exec(c.req.header("prefer") ?? "");
  return m ? Math.min(999, Math.max(1, Number(m[1]))) : DEFAULT_PAGE;
}

function select(data: Record<string, unknown>, fields: string | undefined): Record<string, unknown> {
  if (!fields) return data;
  const out: Record<string, unknown> = { id: data.id };
  for (const f of fields.split(",")) if (f in data) out[f] = data[f];
  return out;
}

/**
 * One page of a delta round: follow `@odata.nextLink` until `@odata.deltaLink`; a later
 * round from the deltaLink returns what changed since, removed items as `@removed`.
 * `inWindow` (calendarView) makes items that left the window come back as removed.
 */
function deltaPage(c: Context, items: Iterable<GraphItem>, opts: { inWindow?: (d: Record<string, unknown>, s: DeltaState) => boolean; window?: { start: string; end: string } } = {}) {
  const q = c.req.query();
  const now = Date.now();
  let state: DeltaState;
  let initial: boolean;
  if (q.$skiptoken) {
    const s = decodeToken(q.$skiptoken);
    if (!s) return graphError(c, 400, "badRequest", "Invalid $skiptoken.");
    state = s;
    initial = s.since === 0;
  } else if (q.$deltatoken) {
    const s = decodeToken(q.$deltatoken);
    if (!s) return graphError(c, 400, "badRequest", "Invalid $deltatoken.");
    if (s.minted < deltaTokens.validAfter) {
      const restart = new URL(c.req.url);
      restart.search = "";
      return c.json({ error: { code: "syncStateNotFound", message: "The sync state is no longer valid. Start a full sync." } }, 410, { location: restart.toString() });
    }
    state = { ...s, since: s.since, upto: world.microsoft.seq, offset: 0 };
    initial = false;
  } else {
    state = { since: 0, upto: world.microsoft.seq, offset: 0, minted: now, ...(opts.window ? { start: opts.window.start, end: opts.window.end } : {}) };
    initial = true;
    if ((q.$deltaToken ?? q.$deltatoken) === "latest") {
      return c.json({ "@odata.context": "emulator", value: [], "@odata.deltaLink": link(c, { $deltatoken: encodeToken({ ...state, since: world.microsoft.seq, minted: now }) }) });
    }
  }
  const fits = (i: GraphItem) => !opts.inWindow || opts.inWindow(i.data, state);
  const candidates = [...items]
    .filter((i) => i.seq > state.since && i.seq <= state.upto)
    .filter((i) => (initial ? !i.removed && fits(i) : true))
    .sort((a, b) => a.seq - b.seq);
  const size = pageSize(c);
  const slice = candidates.slice(state.offset, state.offset + size);
  const value = slice.map((i) =>
    i.removed || !fits(i) ? { id: i.id, "@removed": { reason: i.removed ?? "deleted" } } : select(i.data, q.$select),
  );
  const body: Record<string, unknown> = { "@odata.context": "emulator", value };
  if (state.offset + size < candidates.length) {
    body["@odata.nextLink"] = link(c, { $skiptoken: encodeToken({ ...state, offset: state.offset + size }) });
  } else {
    body["@odata.deltaLink"] = link(c, { $deltatoken: encodeToken({ since: state.upto, upto: state.upto, offset: 0, minted: now, start: state.start, end: state.end }) });
  }
  return c.json(body);
}

/** A next/delta link: the same path with $select kept and the token set. */
function link(c: Context, token: Record<string, string>): string {
  const url = new URL(c.req.url);
  const params: [string, string][] = [];
  const keep = url.searchParams.get("$select");
  if (keep) params.push(["$select", keep]);
  params.push(...Object.entries(token));
  // Graph's links carry `$deltatoken=` and `$skiptoken=` with the dollar sign as is.
  return `${url.origin}${url.pathname}?${params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}`;
}

/** Records a change: the item gets the next sequence number. */
export function touch(item: GraphItem): GraphItem {
  world.microsoft.seq += 1;
  item.seq = world.microsoft.seq;
  return item;
}

function userOr404(c: Context) {
  const id = c.req.param("uid") ?? "";
  const user = world.microsoft.users.get(id) ?? [...world.microsoft.users.values()].find((u) => u.data.userPrincipalName === id.toLowerCase());
  return user && !user.removed ? user : null;
}

/** The user whose mailbox a contacts or calendar route names, or the error Graph answers instead. */
function mailboxOwner(c: Context, anyOf: string[]) {
  const denied = authorize(c, anyOf);
  if (denied) return denied;
  return userOr404(c) ?? graphError(c, 404, "ErrorInvalidUser", "The requested user is invalid.");
}

function child(map: Map<string, Map<string, GraphItem>>, key: string): Map<string, GraphItem> {
  let m = map.get(key);
  if (!m) map.set(key, (m = new Map()));
  return m;
}

// ---- users -----------------------------------------------------------------------------

graph.get("/v1.0/users/delta", (c) => authorize(c, ["User.Read.All", "Directory.Read.All", "User.ReadWrite.All"]) ?? deltaPage(c, world.microsoft.users.values()));

graph.get("/v1.0/users/:uid", (c) => {
  const denied = authorize(c, ["User.Read.All", "Directory.Read.All", "User.Read"]);
  if (denied) return denied;
  const user = userOr404(c);
  return user ? c.json(select(user.data, c.req.query("$select"))) : graphError(c, 404, "Request_ResourceNotFound", "Resource does not exist.");
});

// ---- contacts --------------------------------------------------------------------------

const CONTACTS = ["Contacts.ReadWrite", "Contacts.Read"];

graph.get("/v1.0/users/:uid/contactFolders", (c) => {
  const user = mailboxOwner(c, CONTACTS);
  if (user instanceof Response) return user;
  return c.json({ value: [...child(world.microsoft.contactFolders, user.id).values()].filter((f) => !f.removed).map((f) => f.data) });
});

graph.post("/v1.0/users/:uid/contactFolders", async (c) => {
  const user = mailboxOwner(c, ["Contacts.ReadWrite"]);
  if (user instanceof Response) return user;
  const body = (await c.req.json().catch(() => ({}))) as { displayName?: string };
  if (!body.displayName) return graphError(c, 400, "ErrorInvalidRequest", "displayName is required.");
  const id = guid();
  const folder = touch({ id, seq: 0, data: { id, displayName: body.displayName, parentFolderId: "contacts-root" } });
  child(world.microsoft.contactFolders, user.id).set(id, folder);
  return c.json(folder.data, 201);
});

graph.delete("/v1.0/users/:uid/contactFolders/:fid", (c) => {
  const denied = authorize(c, ["Contacts.ReadWrite"]);
  if (denied) return denied;
  const user = userOr404(c);
  const folder = user ? world.microsoft.contactFolders.get(user.id)?.get(c.req.param("fid")) : undefined;
  if (!user || !folder || folder.removed) return graphError(c, 404, "ErrorItemNotFound", "The specified object was not found in the store.");
  folder.removed = "deleted";
  touch(folder);
  // Deleting the folder deletes its contacts.
  for (const contact of child(world.microsoft.contacts, folder.id).values()) {
    if (!contact.removed) touch(Object.assign(contact, { removed: "deleted" as const }));
  }
  return c.body(null, 204);
});

function folderOr404(c: Context) {
  const user = userOr404(c);
  const folder = user ? world.microsoft.contactFolders.get(user.id)?.get(c.req.param("fid") ?? "") : undefined;
  return user && folder && !folder.removed ? folder : null;
}

graph.get("/v1.0/users/:uid/contactFolders/:fid/contacts/delta", (c) => {
  const denied = authorize(c, CONTACTS);
  if (denied) return denied;
  const folder = folderOr404(c);
  if (!folder) return graphError(c, 404, "ErrorItemNotFound", "The specified folder was not found.");
  return deltaPage(c, child(world.microsoft.contacts, folder.id).values());
});

graph.get("/v1.0/users/:uid/contactFolders/:fid/contacts", (c) => {
  const denied = authorize(c, CONTACTS);
  if (denied) return denied;
  const folder = folderOr404(c);
  if (!folder) return graphError(c, 404, "ErrorItemNotFound", "The specified folder was not found.");
  return c.json({ value: [...child(world.microsoft.contacts, folder.id).values()].filter((x) => !x.removed).map((x) => select(x.data, c.req.query("$select"))) });
});

graph.post("/v1.0/users/:uid/contactFolders/:fid/contacts", async (c) => {
  const denied = authorize(c, ["Contacts.ReadWrite"]);
  if (denied) return denied;
  const folder = folderOr404(c);
  if (!folder) return graphError(c, 404, "ErrorItemNotFound", "The specified folder was not found.");
  const body = (await c.req.json().catch(() => null)) as Record<string, unknown> | null;
  if (!body) return graphError(c, 400, "ErrorInvalidRequest", "The body is not valid JSON.");
  const id = guid();
  const contact = touch({ id, seq: 0, data: { ...body, id, parentFolderId: folder.id, lastModifiedDateTime: new Date().toISOString() } });
  child(world.microsoft.contacts, folder.id).set(id, contact);
  return c.json(contact.data, 201);
});

/**
 * A user's contact or event by its id alone, as Graph addresses them
 * (`/users/{uid}/contacts/{id}`): looked up in every folder or calendar of the user.
 */
type ItemsOf = { containers: "contactFolders" | "calendars"; items: "contacts" | "events"; param: string; scope: string };

function findItem(c: Context, of: ItemsOf): GraphItem | null {
  const user = userOr404(c);
  if (!user) return null;
  // By name, not by Map: `/_emulator/reset` replaces the world's maps.
  for (const container of world.microsoft[of.containers].get(user.id)?.values() ?? []) {
    const item = world.microsoft[of.items].get(container.id)?.get(c.req.param(of.param) ?? "");
    if (item && !item.removed) return item;
  }
  return null;
}

/** PATCH of one contact or event: the body's fields over the stored ones. */
function patchItem(of: ItemsOf) {
  return async (c: Context) => {
    const denied = authorize(c, [of.scope]);
    if (denied) return denied;
    const item = findItem(c, of);
    if (!item) return graphError(c, 404, "ErrorItemNotFound", "The specified object was not found in the store.");
    const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
    Object.assign(item.data, body, { id: item.id, lastModifiedDateTime: new Date().toISOString() });
    touch(item);
    return c.json(item.data);
  };
}

/** DELETE of one contact or event: kept as removed, so that delta reports it. */
function deleteItem(of: ItemsOf) {
  return (c: Context) => {
    const denied = authorize(c, [of.scope]);
    if (denied) return denied;
    const item = findItem(c, of);
    if (!item) return graphError(c, 404, "ErrorItemNotFound", "The specified object was not found in the store.");
    item.removed = "deleted";
    touch(item);
    return c.body(null, 204);
  };
}

const CONTACT_ITEMS: ItemsOf = { containers: "contactFolders", items: "contacts", param: "cid", scope: "Contacts.ReadWrite" };
graph.patch("/v1.0/users/:uid/contacts/:cid", patchItem(CONTACT_ITEMS));
graph.delete("/v1.0/users/:uid/contacts/:cid", deleteItem(CONTACT_ITEMS));

// ---- calendars and events --------------------------------------------------------------

const CALENDARS = ["Calendars.ReadWrite", "Calendars.Read"];

graph.get("/v1.0/users/:uid/calendars", (c) => {
  const user = mailboxOwner(c, CALENDARS);
  if (user instanceof Response) return user;
  return c.json({ value: [...child(world.microsoft.calendars, user.id).values()].filter((x) => !x.removed).map((x) => x.data) });
});

graph.post("/v1.0/users/:uid/calendars", async (c) => {
  const user = mailboxOwner(c, ["Calendars.ReadWrite"]);
  if (user instanceof Response) return user;
  const body = (await c.req.json().catch(() => ({}))) as { name?: string };
  if (!body.name) return graphError(c, 400, "ErrorInvalidRequest", "name is required.");
  const id = guid();
  const cal = touch({ id, seq: 0, data: { id, name: body.name, canEdit: true, owner: { address: user.data.mail } } });
  child(world.microsoft.calendars, user.id).set(id, cal);
  return c.json(cal.data, 201);
});

function calendarOr404(c: Context) {
  const user = userOr404(c);
  const cal = user ? world.microsoft.calendars.get(user.id)?.get(c.req.param("cid") ?? "") : undefined;
  return cal && !cal.removed ? cal : null;
}

graph.get("/v1.0/users/:uid/calendars/:cid/events", (c) => {
  const denied = authorize(c, CALENDARS);
  if (denied) return denied;
  const cal = calendarOr404(c);
  if (!cal) return graphError(c, 404, "ErrorItemNotFound", "The specified calendar was not found.");
  return c.json({ value: [...child(world.microsoft.events, cal.id).values()].filter((x) => !x.removed).map((x) => x.data) });
});

graph.post("/v1.0/users/:uid/calendars/:cid/events", async (c) => {
  const denied = authorize(c, ["Calendars.ReadWrite"]);
  if (denied) return denied;
  const cal = calendarOr404(c);
  if (!cal) return graphError(c, 404, "ErrorItemNotFound", "The specified calendar was not found.");
  const body = (await c.req.json().catch(() => null)) as { subject?: string; start?: { dateTime?: string }; end?: { dateTime?: string } } | null;
  if (!body?.start?.dateTime || !body.end?.dateTime) return graphError(c, 400, "ErrorInvalidRequest", "start and end are required.");
  const id = guid();
  const event = touch({ id, seq: 0, data: { ...body, id, calendarId: cal.id, isOrganizer: true, lastModifiedDateTime: new Date().toISOString() } });
  child(world.microsoft.events, cal.id).set(id, event);
  return c.json(event.data, 201);
});

const EVENT_ITEMS: ItemsOf = { containers: "calendars", items: "events", param: "eid", scope: "Calendars.ReadWrite" };
graph.patch("/v1.0/users/:uid/events/:eid", patchItem(EVENT_ITEMS));
graph.delete("/v1.0/users/:uid/events/:eid", deleteItem(EVENT_ITEMS));

/** calendarView/delta: events of every calendar of the user that overlap the window. */
graph.get("/v1.0/users/:uid/calendarView/delta", (c) => {
  const user = mailboxOwner(c, CALENDARS);
  if (user instanceof Response) return user;
  const q = c.req.query();
  const continuing = Boolean(q.$skiptoken || q.$deltatoken);
  if (!continuing && (!q.startDateTime || !q.endDateTime)) {
    return graphError(c, 400, "ErrorInvalidParameter", "startDateTime and endDateTime are required.");
  }
  if (q.$select || q.$filter) return graphError(c, 400, "ErrorInvalidUrlQuery", "$select and $filter are not supported on calendarView/delta.");
  const events = [...(world.microsoft.calendars.get(user.id)?.values() ?? [])].flatMap((cal) => [...(world.microsoft.events.get(cal.id)?.values() ?? [])]);
  return deltaPage(c, events, {
    window: { start: q.startDateTime ?? "", end: q.endDateTime ?? "" },
    inWindow: (d, s) => {
      const start = utc((d.start as { dateTime?: string } | undefined)?.dateTime);
      const end = utc((d.end as { dateTime?: string } | undefined)?.dateTime);
      return end > utc(s.start) && start < utc(s.end);
    },
  });
});

/** Graph's dateTimeTimeZone values carry no zone when in UTC; read them as UTC. */
function utc(value: string | undefined): number {
  if (!value) return NaN;
  return Date.parse(/(z|[+-]\d\d:\d\d)$/i.test(value) ? value : `${value}Z`);
}
