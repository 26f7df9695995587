import { Validator, type Schema } from "@cfworker/json-schema";
import { exports } from "cloudflare:workers";

// Every response a test receives from the hub is held against the OpenAPI document the
// hub serves: the status must be documented for the route and method, and a JSON body
// must match the documented schema. A drift between the code and the document fails
// the test that saw it.

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
}

let routes: { template: string; regex: RegExp; params: number; methods: Record<string, Operation> }[] | null = null;
const validators = new Map<Schema, Validator>();

/** Pages and tooling that are not part of the API contract. */
const OUTSIDE_THE_CONTRACT = [/^\/openapi\.json$/, /^\/favicon\.ico$/, /^\/dashboard(\/|$)/, /^\/__/];

async function documented() {
  if (routes) return routes;
  const res = await exports.default.fetch(new Request("http://hub.test/openapi.json"));
  const doc = (await res.json()) as Document;
  routes = Object.entries(doc.paths).map(([template, methods]) => ({
    template,
    regex: new RegExp(`^${template.replace(/[.+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
    params: (template.match(/\{/g) ?? []).length,
    methods,
  }));
  return routes;
}

function validator(schema: Schema): Validator {
  let found = validators.get(schema);
  if (!found) {
    const { $schema: _ignored, ...rest } = schema as Schema & { $schema?: string };
    found = new Validator(rest as Schema, "2020-12", false);
    validators.set(schema, found);
  }
  return found;
}

/** Throws when the response departs from the document; answers nothing otherwise. */
export async function checkAgainstDocument(request: Request, response: Response): Promise<void> {
  const url = new URL(request.url);
  if (OUTSIDE_THE_CONTRACT.some((r) => r.test(url.pathname))) return;
  const candidates = (await documented()).filter((r) => r.regex.test(url.pathname)).sort((a, b) => a.params - b.params);
  const where = `${request.method} ${url.pathname}`;
  if (!candidates.length) {
    if (response.status !== 404) throw new Error(`${where} is not in the document but answered ${response.status}`);
    return;
  }
  const method = request.method === "HEAD" ? "get" : request.method.toLowerCase();
  const route = candidates.find((r) => r.methods[method]);
  if (!route) {
    if (response.status !== 405 || !response.headers.get("allow")) throw new Error(`${where}: the method is not documented, so 405 with Allow was expected, not ${response.status}`);
    return;
  }
  const op = route.methods[method]!;
  const entry = op.responses[String(response.status)] ?? op.responses.default;
  if (!entry) throw new Error(`${request.method} ${route.template} answered ${response.status}, which the document does not list (${Object.keys(op.responses).join(", ")})`);
  const text = request.method === "HEAD" ? "" : await response.clone().text();
  if (!text || !entry.content) return;
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const media = entry.content[type];
  if (!media) throw new Error(`${request.method} ${route.template} ${response.status}: content type ${type} is not documented (${Object.keys(entry.content).join(", ")})`);
  if (!media.schema || !/json$/.test(type)) return;
  const result = validator(media.schema).validate(JSON.parse(text));
  if (!result.valid) {
    const errors = result.errors.slice(0, 5).map((e) => `${e.instanceLocation}: ${e.error}`);
    throw new Error(`${request.method} ${route.template} ${response.status}: the body does not match the document:\n  ${errors.join("\n  ")}\n  body: ${text.slice(0, 500)}`);
  }
}
