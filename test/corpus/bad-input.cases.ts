/**
 * The bad-input corpus (issue #20): malformed and hostile requests against every public
 * route, each with the answer API.md documents for it. Every one of them is refused: a
 * 4xx with a problem body, and nothing stored changes (the test compares every D1 table
 * before and after). Placeholders in paths: `:tenant`, `:integration`, `:import`,
 * `:user`, `:run`, and `:other` (an id of another tenant's integration).
 */

export interface BadRequest {
  /** What makes it bad, for the test's name. */
  name: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  /** Whose credentials: the tenant's API key (default), the operator's token, none, or a made-up one. */
  auth?: "key" | "operator" | "none" | "forged";
  /** The body as sent; `json` is stringified. */
  body?: string | Uint8Array;
  json?: unknown;
  /** The Content-Type sent; null sends none. Defaults to application/json when there is a body. */
  contentType?: string | null;
  headers?: Record<string, string>;
  /** For `/webhooks/:tenant`: how the delivery is signed. */
  webhook?: WebhookSigning;
  /** The documented answers (one of them). */
  status: number | number[];
}

export type WebhookSigning =
  | "none"
  | "valid"
  | "wrong-secret"
  | "malformed"
  | "two-wrong"
  | "no-id"
  | "no-timestamp"
  | "stale"
  | "future"
  | "non-numeric-timestamp"
  | "other-tenant";

/** Default body limit of JSON routes (API.md: 256 KiB). */
const LIMIT = 256 * 1024;

const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
const huge = "x".repeat(300);
const oversized = JSON.stringify({ name: "y".repeat(LIMIT + 1) });
const NUL = "Ada\u0000Lovelace";
const CONTROL = "Ada\u001b[31m";

/** What every JSON route must refuse, whatever its schema. */
function jsonBattery(method: BadRequest["method"], path: string, fields: { text: string; valid: Record<string, unknown> }, status422 = 422): BadRequest[] {
  const withText = (value: unknown) => ({ ...fields.valid, [fields.text]: value });
  return [
    { name: "broken JSON", method, path, body: '{"name": ', status: 400 },
    { name: "JSON with a trailing comma", method, path, body: '{"a":1,}', status: 400 },
    { name: "a body that is not UTF-8", method, path, body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), status: [400, 422] },
    { name: "JSON null", method, path, body: "null", status: status422 },
    { name: "a JSON array", method, path, body: "[]", status: status422 },
    { name: "a JSON string", method, path, body: '"hello"', status: status422 },
    { name: "wrong types", method, path, json: withText(12345), status: status422 },
    { name: "an object where a string goes", method, path, json: withText({ $gt: "" }), status: status422 },
    { name: "nesting 10,000 arrays deep", method, path, body: deep(10_000), status: [400, 413, 422] },
    { name: "nesting 5,000 objects deep", method, path, body: deepObject(5_000), status: [400, 413, 422] },
    { name: "a body past the 256 KiB limit", method, path, body: oversized, status: 413 },
    { name: "plain text", method, path, body: JSON.stringify(fields.valid), contentType: "text/plain", status: 415 },
    { name: "a form body", method, path, body: "name=x", contentType: "application/x-www-form-urlencoded", status: 415 },
    { name: "no content type", method, path, body: JSON.stringify(fields.valid), contentType: null, status: 415 },
    { name: "a NUL in a string", method, path, json: withText(NUL), status: status422 },
    { name: "a lone surrogate in a string", method, path, body: JSON.stringify(fields.valid).replace(/}$/, `,"${fields.text}":"Ada\\ud800"}`), status: status422 },
    { name: "a terminal escape in a string", method, path, json: withText(CONTROL), status: status422 },
    { name: "__proto__ as a key", method, path, body: JSON.stringify(fields.valid).replace(/}$/, ',"__proto__":{"admin":true}}'), status: status422 },
    { name: "a key outside the contract", method, path, json: { ...fields.valid, isAdmin: true }, status: status422 },
  ];
}

/** A user as PUT takes it, valid. */
const USER = { id: "corpus-user", email: "corpus@example.com", firstName: "Cor" };

/** Users (directory writes): the fields, one by one. */
function userBattery(): BadRequest[] {
  const put = (name: string, json: unknown, status: number | number[] = 422, id = "corpus-user"): BadRequest => ({ name, method: "PUT", path: `/v1/directory/users/${id}`, json, status });
  return [
    ...jsonBattery("PUT", "/v1/directory/users/corpus-user", { text: "firstName", valid: USER }),
    put("no e-mail", { id: "corpus-user" }),
    put("an e-mail without a domain", { ...USER, email: "corpus@" }),
    put("an e-mail with a space", { ...USER, email: "cor pus@example.com" }),
    put("a homoglyph e-mail (Cyrillic а)", { ...USER, email: "\u0430da@example.com" }),
    put("an e-mail with a right-to-left override", { ...USER, email: "ada\u202e@example.com" }),
    put("an e-mail with a NUL", { ...USER, email: "ada\u0000@example.com" }),
    put("an e-mail 300 characters long", { ...USER, email: `${"a".repeat(290)}@example.com` }),
    put("an e-mail with a CRLF header injection", { ...USER, email: "ada@example.com\r\nBcc: all@example.com" }),
    put("a name past 256 characters", { ...USER, firstName: huge }),
    put("a status outside active and disabled", { ...USER, status: "admin" }),
    put("a date of birth that does not exist", { ...USER, dateOfBirth: "2021-02-30" }),
    put("a date of birth in another format", { ...USER, dateOfBirth: "21-Jan-2020" }),
    put("updatedAt without a zone", { ...USER, updatedAt: "2026-11-21T10:00:00" }),
    put("updatedAt as a number", { ...USER, updatedAt: 1795939958 }),
    put("101 attributes", { ...USER, attributes: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a${i}`, "x"])) }),
    put("an attribute with an empty name", { ...USER, attributes: { "": "x" } }),
    put("an attribute that is not a string", { ...USER, attributes: { level: 3 } }),
    put("an attribute with a NUL", { ...USER, attributes: { note: NUL } }),
    put("an attribute named prototype (valibot would drop it silently)", { ...USER, attributes: { prototype: "x" } }),
    put("an attribute named constructor", { ...USER, attributes: { constructor: "x" } }),
    { name: "an attribute named __proto__", method: "PUT", path: "/v1/directory/users/corpus-user", body: JSON.stringify(USER).replace(/}$/, ',"attributes":{"__proto__":"x"}}'), status: 422 },
    put("a body id other than the path's", { ...USER, id: "someone-else" }, [409, 422]),
    put("an id past 256 characters", { ...USER, id: huge }, [400, 404, 422], huge),
    put("an id with a NUL (encoded)", { ...USER, id: "a\u0000b" }, [400, 404, 422], "a%00b"),
    put("an id with a lone surrogate (encoded)", { ...USER, id: "x" }, [400, 404, 422], "%ED%A0%80"),
  ];
}

/** Webhook deliveries: the signature, the envelope and the user in it. */
function webhookBattery(): BadRequest[] {
  const hook = (name: string, webhook: WebhookSigning, json: unknown, status: number | number[], extra: Partial<BadRequest> = {}): BadRequest => ({ name, method: "POST", path: "/webhooks/:tenant", auth: "none", webhook, json, status, ...extra });
  const event = (data: Record<string, unknown>, type = "user.created") => ({ type, timestamp: "2026-11-21T10:00:00Z", data });
  const ok = event({ id: "hook-user", email: "hook@example.com" });
  return [
    hook("no signature headers", "none", ok, 401),
    hook("signed with another secret", "wrong-secret", ok, 401),
    hook("a malformed signature", "malformed", ok, 401),
    hook("two signatures, both wrong", "two-wrong", ok, 401),
    hook("no webhook-id", "no-id", ok, [400, 401]),
    hook("no webhook-timestamp", "no-timestamp", ok, [400, 401]),
    hook("a timestamp ten minutes old", "stale", ok, 401),
    hook("a timestamp ten minutes ahead", "future", ok, 401),
    hook("a timestamp that is not a number", "non-numeric-timestamp", ok, [400, 401]),
    hook("signed with another tenant's secret", "other-tenant", ok, 401),
    hook("signed, but broken JSON", "valid", undefined, 400, { body: '{"type":"user.created",' }),
    hook("signed, an unknown event type", "valid", event({ id: "hook-user", email: "hook@example.com" }, "user.promoted"), 422),
    hook("signed, no data", "valid", { type: "user.created", timestamp: "2026-11-21T10:00:00Z" }, 422),
    hook("signed, data is a string", "valid", { type: "user.created", timestamp: "2026-11-21T10:00:00Z", data: "u_1" }, 422),
    hook("signed, a homoglyph e-mail", "valid", event({ id: "hook-user", email: "h\u043eok@example.com" }), 422),
    hook("signed, a NUL in a name", "valid", event({ id: "hook-user", email: "hook@example.com", firstName: NUL }), 422),
    hook("signed, a lone surrogate in a name", "valid", undefined, 422, { body: JSON.stringify(ok).replace('"hook@example.com"', '"hook@example.com","firstName":"Ada\\ud800"') }),
    hook("signed, a timestamp that is not a date", "valid", { ...ok, timestamp: "yesterday" }, 422),
    hook("signed, an attribute named prototype", "valid", event({ id: "hook-user", email: "hook@example.com", attributes: { prototype: "x" } }), 422),
    hook("signed, __proto__ in data", "valid", undefined, 422, { body: JSON.stringify(ok).replace('"hook@example.com"', '"hook@example.com","__proto__":{"admin":true}') }),
    hook("signed, a key outside the contract", "valid", event({ id: "hook-user", email: "hook@example.com", isAdmin: true }), 422),
    hook("signed, plain text", "valid", ok, 415, { contentType: "text/plain" }),
    hook("signed, past the 256 KiB limit", "valid", undefined, 413, { body: JSON.stringify(event({ id: "hook-user", email: "hook@example.com", firstName: "z".repeat(LIMIT) })) }),
    hook("signed, nested 10,000 deep", "valid", undefined, [400, 413, 422], { body: deep(10_000) }),
    { name: "a tenant that does not exist", method: "POST", path: "/webhooks/ten_doesnotexist", auth: "none", webhook: "valid", json: ok, status: [401, 404] },
    { name: "a tenant id with a path traversal", method: "POST", path: "/webhooks/..%2Fv1%2Ftenant", auth: "none", webhook: "valid", json: ok, status: [401, 404] },
    { name: "a tenant id with an encoded NUL", method: "POST", path: "/webhooks/ten%00", auth: "none", webhook: "valid", json: ok, status: [400, 401, 404] },
  ];
}

/** Ids in paths: traversal, encoded slashes, other tenants' ids, oddities. */
function idBattery(): BadRequest[] {
  const ids = ["..%2F..%2Fv1%2Ftenant", "int_%2F", "%2e%2e", "int_x%00", "int_'%20OR%201%3D1--", "%F0%9F%98%80", "x".repeat(2000), ":other"];
  const routes: [BadRequest["method"], string][] = [
    ["GET", "/v1/integrations/{}"],
    ["PATCH", "/v1/integrations/{}"],
    ["POST", "/v1/integrations/{}/resync"],
    ["GET", "/v1/integrations/{}/links"],
    ["GET", "/v1/integrations/{}/logs"],
    ["POST", "/v1/integrations/{}/deactivate"],
  ];
  const out: BadRequest[] = [];
  for (const [method, template] of routes) {
    for (const id of ids) {
      out.push({ name: `an odd id ${id.slice(0, 30)}`, method, path: template.replace("{}", id), json: method === "GET" ? undefined : method === "PATCH" ? { name: "renamed" } : {}, status: [400, 404, 414] });
    }
  }
  const single: [BadRequest["method"], string][] = [
    ["GET", "/v1/directory/users/..%2F..%2Fv1%2Ftenant"],
    ["DELETE", "/v1/directory/users/%2e%2e%2f%2e%2e"],
    ["GET", "/v1/runs/..%2Fruns"],
    ["POST", "/v1/runs/run_'%3B%20DROP%20TABLE%20runs%3B--/approve"],
    ["POST", "/v1/runs/run_nope/cancel"],
    ["GET", "/v1/imports/imp_..%2F..%2Fplans"],
    ["POST", "/v1/imports/imp_nope/apply"],
    ["GET", "/v1/integrations/:other/links.csv"],
    ["GET", "/v1/integrations/:other/handler-logs"],
    ["DELETE", "/v1/integrations/:other"],
    ["DELETE", "/v1/integrations/:integration/links/..%2F..%2Fcorpus-user"],
    ["PUT", "/v1/integrations/:other/links/corpus-user"],
    ["POST", "/v1/integrations/:other/handlers/test"],
    ["POST", "/v1/integrations/:other/connect"],
    ["GET", "/connect/..%2F..%2Fv1%2Ftenant"],
  ];
  const bodyOf = (path: string) => (path.startsWith("/v1/imports/") ? { mapping: { Email: "email" }, mode: "partial" } : {});
  for (const [method, path] of single) out.push({ name: `an id that names nothing of this tenant`, method, path, json: method === "PUT" ? { remoteId: "r1" } : method === "POST" ? bodyOf(path) : undefined, status: [400, 401, 404] });
  return out;
}

/** List routes: absurd pagination and filters. */
function paginationBattery(): BadRequest[] {
  const lists = ["/v1/directory/users", "/v1/integrations", "/v1/runs", "/v1/imports", "/v1/integrations/:integration/links", "/v1/integrations/:integration/logs", "/v1/integrations/:integration/handler-logs"];
  const queries = ["limit=-1", "limit=0", "limit=1000000000", "limit=abc", "limit=1e3", "cursor=not-a-cursor", "cursor=eyJpZCI6IicgT1IgMT0xLS0ifQ", "cursor=%00"];
  return lists.flatMap((path) => queries.map((q): BadRequest => ({ name: `absurd paging ${q}`, method: "GET", path: `${path}?${q}`, status: [400, 422] })));
}

/** Credentials. */
function authBattery(): BadRequest[] {
  const routes: [BadRequest["method"], string][] = [
    ["GET", "/v1/tenant"],
    ["GET", "/v1/directory/users"],
    ["POST", "/v1/integrations"],
    ["POST", "/v1/imports"],
    ["POST", "/v1/secrets/rotate"],
  ];
  const out: BadRequest[] = [];
  for (const [method, path] of routes) {
    out.push({ name: "no credentials", method, path, auth: "none", json: method === "POST" ? {} : undefined, status: 401 });
    out.push({ name: "a made-up API key", method, path, auth: "forged", json: method === "POST" ? {} : undefined, status: 401 });
    out.push({ name: "Basic instead of Bearer", method, path, auth: "none", headers: { authorization: "Basic dXNlcjpwYXNz" }, json: method === "POST" ? {} : undefined, status: 401 });
    out.push({ name: "the operator token on a tenant route", method, path, auth: "operator", json: method === "POST" ? {} : undefined, status: 401 });
  }
  out.push({ name: "a tenant's API key for creating tenants", method: "POST", path: "/v1/tenants", auth: "key", json: { name: "Evil" }, status: 401 });
  out.push({ name: "an API key with a CRLF", method: "GET", path: "/v1/tenant", auth: "none", headers: { authorization: "Bearer usk_abc%0d%0aX-Admin: 1" }, status: 401 });
  return out;
}

/** CSV uploads and the import routes. */
function importBattery(): BadRequest[] {
  const upload = (name: string, body: string | Uint8Array, status: number | number[], contentType: string | null = "text/csv"): BadRequest => ({ name, method: "POST", path: "/v1/imports", body, contentType, status });
  const mapping = { mapping: { Email: "email" }, mode: "partial" };
  return [
    upload("an empty file", "", 422),
    upload("only a BOM", "\uFEFF", 422),
    upload("a PNG", new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]), 422),
    upload("Latin-1, not UTF-8", new Uint8Array([0x45, 0x6d, 0x61, 0x69, 0x6c, 0x0a, 0xe9, 0x40, 0x78, 0x2e, 0x63, 0x6f, 0x0a]), 422),
    upload("UTF-16", new Uint8Array([0xff, 0xfe, 0x45, 0x00, 0x0a, 0x00]), 422),
    upload("an unclosed quote", 'Email,Name\n"ada@example.com,Ada\n', 422),
    upload("a CSV bomb: 100,000 columns", `${Array.from({ length: 100_000 }, (_, i) => `h${i}`).join(",")}\nada@example.com\n`, 422),
    upload("a CSV bomb: a header cell of 100,000 characters", `Email,${"H".repeat(100_000)}\nada@example.com,x\n`, 422),
    upload("a CSV bomb: a quoted cell of 1 MiB that never closes", `Email\n"${"q".repeat(1024 * 1024)}`, 422),
    upload("a header row of one empty column", '""\nada@example.com\n', 422),
    upload("a first row that names nothing", ",,,\nada@example.com,,,\n", 422),
    upload("JSON sent as JSON", '{"Email":"ada@example.com"}', 415, "application/json"),
    upload("a form upload", "Email\nada@example.com\n", 415, "multipart/form-data; boundary=x"),
    upload("no content type", "Email\nada@example.com\n", 415, null),
    upload("a spreadsheet", new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]), 415, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    { name: "preview with a mapping to a field that does not exist", method: "POST", path: "/v1/imports/:import/preview", json: { mapping: { Email: "email", Name: "isAdmin" }, mode: "partial" }, status: 422 },
    { name: "preview with a mapping of a column the file lacks", method: "POST", path: "/v1/imports/:import/preview", json: { mapping: { Email: "email", Salary: "attributes.salary" }, mode: "partial" }, status: 422 },
    { name: "preview with no column to e-mail", method: "POST", path: "/v1/imports/:import/preview", json: { mapping: { Name: "firstName" }, mode: "partial" }, status: 422 },
    { name: "preview in a mode that does not exist", method: "POST", path: "/v1/imports/:import/preview", json: { ...mapping, mode: "everything" }, status: 422 },
    { name: "preview with maxDisablePercent of 1000", method: "POST", path: "/v1/imports/:import/preview", json: { ...mapping, maxDisablePercent: 1000 }, status: 422 },
    { name: "apply with two columns to one field", method: "POST", path: "/v1/imports/:import/apply", json: { mapping: { Email: "email", Name: "email" }, mode: "partial" }, status: 422 },
    { name: "apply with a column to attributes.constructor", method: "POST", path: "/v1/imports/:import/apply", json: { mapping: { Email: "email", Name: "attributes.constructor" }, mode: "partial" }, status: 422 },
    { name: "apply with an attribute name with a dot", method: "POST", path: "/v1/imports/:import/apply", json: { mapping: { Email: "email", Name: "attributes.a.b" }, mode: "partial" }, status: 422 },
    ...jsonBattery("POST", "/v1/imports/:import/preview", { text: "mode", valid: mapping }),
    ...jsonBattery("PUT", "/v1/imports/mapping", { text: "mode", valid: mapping }),
  ];
}

/** Integrations, the tenant, secrets, runs and handlers. */
function restBattery(): BadRequest[] {
  return [
    ...jsonBattery("POST", "/v1/integrations", { text: "name", valid: { provider: "zoho-crm", name: "CRM" } }),
    { name: "a provider that does not exist", method: "POST", path: "/v1/integrations", json: { provider: "../../etc/passwd" }, status: 422 },
    { name: "a config with SQL in a key", method: "POST", path: "/v1/integrations", json: { provider: "zoho-crm", config: { "'; DROP TABLE links;--": 1 } }, status: 422 },
    { name: "a before handler that is not JSONata", method: "PATCH", path: "/v1/integrations/:integration", json: { config: { handlers: { before: { expr: "user.(" } } } }, status: 422 },
    { name: "an after handler at a metadata address", method: "PATCH", path: "/v1/integrations/:integration", json: { config: { handlers: { after: { url: "https://169.254.169.254/latest/meta-data", events: ["user.synced"] } } } }, status: 422 },
    { name: "an after handler at a decimal loopback address", method: "PATCH", path: "/v1/integrations/:integration", json: { config: { handlers: { after: { url: "https://2130706433/", events: ["user.synced"] } } } }, status: 422 },
    { name: "an after handler over plain http", method: "PATCH", path: "/v1/integrations/:integration", json: { config: { handlers: { after: { url: "http://example.com/hook", events: ["user.synced"] } } } }, status: 422 },
    { name: "an after handler with credentials in the URL", method: "PATCH", path: "/v1/integrations/:integration", json: { config: { handlers: { after: { url: "https://user:pass@example.com/hook", events: ["user.synced"] } } } }, status: 422 },
    { name: "an after handler for an event that does not exist", method: "PATCH", path: "/v1/integrations/:integration", json: { config: { handlers: { after: { url: "https://example.com/hook", events: ["user.hacked"] } } } }, status: 422 },
    ...jsonBattery("PATCH", "/v1/integrations/:integration", { text: "name", valid: { name: "CRM" } }),
    ...jsonBattery("PATCH", "/v1/tenant", { text: "name", valid: { name: "Acme" } }),
    ...jsonBattery("POST", "/v1/secrets/rotate", { text: "which", valid: { which: "apiKey" } }),
    { name: "rotating a secret that does not exist", method: "POST", path: "/v1/secrets/rotate", json: { which: "encryptionKey" }, status: 422 },
    ...jsonBattery("POST", "/v1/integrations/:integration/resync", { text: "reason", valid: { userIds: ["corpus-user"] } }),
    { name: "resync of 10,001 people", method: "POST", path: "/v1/integrations/:integration/resync", json: { userIds: Array.from({ length: 10_001 }, (_, i) => `u${i}`) }, status: [413, 422] },
    { name: "resync with an id that is not a string", method: "POST", path: "/v1/integrations/:integration/resync", json: { userIds: [{ $ne: null }] }, status: 422 },
    { name: "a manual link without remoteId", method: "PUT", path: "/v1/integrations/:integration/links/corpus-user", json: {}, status: 422 },
    { name: "a manual link with a NUL remoteId", method: "PUT", path: "/v1/integrations/:integration/links/corpus-user", json: { remoteId: "r\u00001" }, status: 422 },
    { name: "a handler test of an event that does not exist", method: "POST", path: "/v1/integrations/:integration/handlers/test", json: { event: "user.hacked" }, status: 422 },
    { name: "handler logs of a kind that does not exist", method: "GET", path: "/v1/integrations/:integration/handler-logs?kind=during", status: [400, 422] },
    { name: "logs filtered by an action that does not exist", method: "GET", path: "/v1/integrations/:integration/logs?action=drop", status: [400, 422] },
    { name: "links filtered by a status that does not exist", method: "GET", path: "/v1/integrations/:integration/links?status=everything", status: [400, 422] },
    ...jsonBattery("POST", "/v1/tenants", { text: "name", valid: { name: "Acme" } }).map((c) => ({ ...c, auth: "operator" as const })),
  ];
}

/** OAuth and sign-in, by their query strings. */
function browserBattery(): BadRequest[] {
  return [
    { name: "an OAuth callback without state", method: "GET", path: "/oauth/callback?code=abc", auth: "none", status: 400 },
    { name: "an OAuth callback with a forged state", method: "GET", path: "/oauth/callback?code=abc&state=eyJhbGciOiJub25lIn0.eyJ0IjoidGVuIn0.", auth: "none", status: 400 },
    { name: "an OAuth callback with a huge state", method: "GET", path: `/oauth/callback?code=abc&state=${"a".repeat(10_000)}`, auth: "none", status: [400, 414] },
    { name: "an OAuth callback with an error and a script", method: "GET", path: "/oauth/callback?error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=x", auth: "none", status: 400 },
    { name: "a sign-in without a token", method: "GET", path: "/auth/sso", auth: "none", status: 401 },
    { name: "a sign-in with an unsigned token", method: "GET", path: "/auth/sso?token=eyJhbGciOiJub25lIn0.eyJ0ZW5hbnQiOiJ0ZW4ifQ.", auth: "none", status: 401 },
    { name: "a sign-in with garbage", method: "GET", path: "/auth/sso?token=%00%00%00", auth: "none", status: 401 },
    { name: "a disown without a form", method: "POST", path: "/oauth/disown", auth: "none", body: "x", contentType: "text/plain", status: [400, 415] },
  ];
}

export const BAD_REQUESTS: BadRequest[] = [...userBattery(), ...webhookBattery(), ...idBattery(), ...paginationBattery(), ...authBattery(), ...importBattery(), ...restBattery(), ...browserBattery()];
