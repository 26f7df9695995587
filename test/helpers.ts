import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";

export const OPERATOR_TOKEN = env.OPERATOR_TOKEN;

/** Calls the Worker's own fetch handler, as a client would over HTTP. */
export function call(path: string, init: RequestInit & { json?: unknown; token?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  return exports.default.fetch(new Request(`http://hub.test${path}`, { ...init, headers, body }));
}

export interface TestTenant {
  id: string;
  apiKey: string;
  webhookSecret: string;
  ssoSecret: string;
}

/** Creates a tenant through the public API, as the operator would. */
export async function createTenant(name = "Acme"): Promise<TestTenant> {
  const res = await call("/v1/tenants", { method: "POST", json: { name }, token: OPERATOR_TOKEN });
  if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { tenant: { id: string }; apiKey: string; webhookSecret: string; ssoSecret: string };
  return { id: body.tenant.id, apiKey: body.apiKey, webhookSecret: body.webhookSecret, ssoSecret: body.ssoSecret };
}

/** Parses a problem+json answer and checks its content type. */
export async function problem(res: Response) {
  if (!res.headers.get("content-type")?.startsWith("application/problem+json")) {
    throw new Error(`expected problem+json, got ${res.headers.get("content-type")}: ${await res.text()}`);
  }
  return (await res.json()) as { type: string; title: string; status: number; detail?: string; errors?: { path: string; message: string }[] };
}
