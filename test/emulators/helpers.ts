import { env } from "cloudflare:test";

/** The emulators' base URL (a real HTTP server on loopback, see test/global-setup.ts). */
export const EMU = env.EMULATOR_URL;

export const ZOHO_CLIENT = { id: "1000.EMULATORCLIENT", secret: "emulator-zoho-secret", redirect: "http://hub.test/oauth/callback" };
export const MS_CLIENT = { id: "00000000-0000-0000-0000-00000000e001", secret: "emulator-microsoft-secret", redirect: "http://hub.test/oauth/callback" };

/** A request to the emulators; `json` sets the body and content type. */
export function emu(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  return fetch(path.startsWith("http") ? path : `${EMU}${path}`, { redirect: "manual", ...init, headers, body });
}

/** Starts the emulated world anew (seeded unless told otherwise) with no faults. */
export async function resetEmulator(seed = true): Promise<void> {
  const res = await emu("/_emulator/reset", { method: "POST", json: { seed } });
  if (!res.ok) throw new Error(`reset failed: ${res.status}`);
}

export function setFaults(faults: Record<string, unknown>): Promise<Response> {
  return emu("/_emulator/faults", { method: "PUT", json: faults });
}

export async function calls(): Promise<{ total: number; calls: Record<string, number> }> {
  return (await emu("/_emulator/calls")).json();
}

/** Follows Zoho's auto-approved authorize step (and a multi-DC hop) to the redirect. */
export async function zohoAuthorize(dc: string, email: string, scopes: string[], extra: Record<string, string> = {}) {
  const params = new URLSearchParams({
    client_id: ZOHO_CLIENT.id,
    response_type: "code",
    redirect_uri: ZOHO_CLIENT.redirect,
    scope: scopes.join(","),
    access_type: "offline",
    prompt: "consent",
    state: "st4te",
    auto_approve: "1",
    login_hint: email,
    ...extra,
  });
  let res = await emu(`/zoho/${dc}/accounts/oauth/v2/auth?${params}`);
  const hops: string[] = [];
  while (res.status === 302 && !res.headers.get("location")!.startsWith(ZOHO_CLIENT.redirect)) {
    hops.push(res.headers.get("location")!);
    res = await emu(res.headers.get("location")!);
  }
  if (res.status !== 302) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  const url = new URL(res.headers.get("location")!);
  return { url, hops, code: url.searchParams.get("code")!, accountsServer: url.searchParams.get("accounts-server")!, location: url.searchParams.get("location")! };
}

/** The full Zoho code flow; answers the token JSON. */
export async function zohoTokens(dc: string, email: string, scopes: string[]) {
  const grant = await zohoAuthorize(dc, email, scopes);
  const res = await emu(`${grant.accountsServer}/oauth/v2/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "authorization_code", client_id: ZOHO_CLIENT.id, client_secret: ZOHO_CLIENT.secret, redirect_uri: ZOHO_CLIENT.redirect, code: grant.code }),
  });
  return (await res.json()) as { access_token: string; refresh_token: string; api_domain: string; expires_in: number; token_type: string; error?: string };
}

export const CRM_SCOPES = ["ZohoCRM.modules.ALL", "ZohoCRM.users.ALL", "ZohoCRM.coql.READ", "ZohoCRM.org.READ"];

/** A call to the Zoho API domain with `Zoho-oauthtoken`. */
export function zoho(apiDomain: string, token: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Zoho-oauthtoken ${token}`);
  return emu(`${apiDomain}${path}`, { ...init, headers });
}

/** A fresh emulated world and a US CRM session in it (API domain and access token). */
export async function freshCrmSession(): Promise<{ api: string; token: string }> {
  await resetEmulator();
  const t = await zohoTokens("us", "admin@acme.example", CRM_SCOPES);
  return { api: t.api_domain, token: t.access_token };
}
