import { env } from "cloudflare:test";
import { call, eventually, sendWebhook, userEvent, createTenant, type TestTenant } from "../helpers";
import { emu } from "../emulators/helpers";
import { connectThroughProvider, createIntegration } from "../integrations/helpers";

export interface Link {
  status: string;
  remote_id: string | null;
  remote_url: string | null;
  last_error: string | null;
  failure_kind: string | null;
  pushed_version: number | null;
}

/** A tenant with a connected Zoho CRM (US) integration, optionally with config changes. */
export async function connectedCrm(config: Record<string, unknown> = {}) {
  const t = await createTenant();
  const i = await createIntegration(t, { provider: "zoho-crm", config });
  await connectThroughProvider(t, i.id, "admin@acme.example");
  await initialResyncSettled(i.id);
  return { t, integrationId: i.id };
}

export function link(integrationId: string, userId: string) {
  return env.DB.prepare("SELECT * FROM links WHERE integration_id = ? AND user_id = ?").bind(integrationId, userId).first<Link>();
}

/** Waits until the person's link is in one of `statuses`. */
export function linkIn(integrationId: string, userId: string, statuses: string[], timeoutMs = 15_000) {
  return eventually(async () => {
    const l = await link(integrationId, userId);
    return l && statuses.includes(l.status) ? l : undefined;
  }, timeoutMs);
}

/** The emulator's Zoho CRM (US) contacts, optionally of one e-mail. */
export async function contacts(email?: string) {
  return (await (await emu(`/_emulator/zoho/us/crm/Contacts${email ? `?email=${encodeURIComponent(email)}` : ""}`)).json()) as { count: number; records: Record<string, any>[] };
}

export async function logs(integrationId: string, userId: string) {
  const { results } = await env.DB.prepare("SELECT action, status, detail FROM sync_logs WHERE integration_id = ? AND user_id = ? ORDER BY id").bind(integrationId, userId).all();
  return results as { action: string; status: string; detail: string | null }[];
}

export function send(t: TestTenant, type: string, data: Record<string, unknown>) {
  return sendWebhook(t, userEvent(type, data));
}

/** Waits for a run to end (done or failed) or to be held; answers its JSON. */
export function runSettled(t: TestTenant, runId: string, timeoutMs = 20_000) {
  return eventually(async () => {
    const run = (await (await call(`/v1/runs/${runId}`, { token: t.apiKey })).json()) as { status: string; counts: Record<string, number>; detail: string | null };
    return run.status === "running" ? undefined : run;
  }, timeoutMs);
}

/** Waits for the resync that connecting starts (an empty directory: one page) to end. */
export function initialResyncSettled(integrationId: string) {
  return eventually(async () => {
    const open = await env.DB.prepare("SELECT id FROM runs WHERE integration_id = ? AND status IN ('running', 'held')").bind(integrationId).first();
    return open ? undefined : true;
  }, 10_000);
}
