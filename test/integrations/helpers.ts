import { env } from "cloudflare:test";
import { call, type TestTenant } from "../helpers";

/** Creates an integration through the API; answers its JSON. */
export async function createIntegration(t: TestTenant, body: Record<string, unknown>) {
  const res = await call("/v1/integrations", { method: "POST", json: body, token: t.apiKey });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; status: string; pendingActions: string[]; config: Record<string, any>; connection: Record<string, any> | null };
}

/**
 * The whole connect flow: the hub's authorize URL, the emulator's consent (auto-approved
 * as `email`, following Zoho's multi-DC hop), then the hub's callback. Answers the
 * callback's response and the redirect the provider made.
 */
export async function connectThroughProvider(t: TestTenant, integrationId: string, email: string, tweak?: (callback: URL) => void) {
  const res = await call(`/v1/integrations/${integrationId}/connect`, { method: "POST", token: t.apiKey });
  if (res.status !== 200) throw new Error(`connect failed: ${res.status} ${await res.text()}`);
  const { authorizeUrl } = (await res.json()) as { authorizeUrl: string };
  const start = new URL(authorizeUrl);
  start.searchParams.set("auto_approve", "1");
  start.searchParams.set("login_hint", email);
  let answer = await fetch(start, { redirect: "manual" });
  const hops: string[] = [];
  while (answer.status === 302 && !answer.headers.get("location")!.startsWith(`${env.PUBLIC_URL}/`)) {
    hops.push(answer.headers.get("location")!);
    answer = await fetch(answer.headers.get("location")!, { redirect: "manual" });
  }
  if (answer.status !== 302) throw new Error(`consent answered ${answer.status}: ${await answer.text()}`);
  const callback = new URL(answer.headers.get("location")!);
  tweak?.(callback);
  const result = await call(`${callback.pathname}${callback.search}`);
  return { result, callback, hops, authorizeUrl };
}

/** The raw credential row of an integration, or null. */
export function credentialRow(integrationId: string) {
  return env.DB.prepare("SELECT * FROM integration_credentials WHERE integration_id = ?").bind(integrationId).first<Record<string, any>>();
}
