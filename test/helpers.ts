import { Webhook } from "standardwebhooks";
import { advanceClock } from "../src/lib/clock";
import type { JobMessage } from "../src/queue/messages";
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { checkAgainstDocument } from "./openapi-check";
import worker from "../src/index";

export const OPERATOR_TOKEN = env.OPERATOR_TOKEN;

/**
 * Calls the Worker's own fetch handler, as a client would over HTTP. Every answer is
 * checked against the hub's OpenAPI document (test/openapi-check.ts).
 */
export async function call(path: string, init: RequestInit & { json?: unknown; token?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  const request = new Request(`http://hub.test${path}`, { redirect: "manual", ...init, headers, body });
  const response = await exports.default.fetch(request.clone());
  await checkAgainstDocument(request, response);
  return response;
}

export interface TestTenant {
  id: string;
  apiKey: string;
  webhookSecret: string;
  ssoSecret: string;
  eventSecret: string;
}

/** Creates a tenant through the public API, as the operator would. */
export async function createTenant(name = "Acme"): Promise<TestTenant> {
  const res = await call("/v1/tenants", { method: "POST", json: { name }, token: OPERATOR_TOKEN });
  if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { tenant: { id: string }; apiKey: string; webhookSecret: string; ssoSecret: string; eventSecret: string };
  return { id: body.tenant.id, apiKey: body.apiKey, webhookSecret: body.webhookSecret, ssoSecret: body.ssoSecret, eventSecret: body.eventSecret };
}

/** Parses a problem+json answer and checks its content type. */
export async function problem(res: Response) {
  if (!res.headers.get("content-type")?.startsWith("application/problem+json")) {
    throw new Error(`expected problem+json, got ${res.headers.get("content-type")}: ${await res.text()}`);
  }
  return (await res.json()) as { type: string; title: string; status: number; detail?: string; errors?: { path: string; message: string }[] };
}


let seq = 0;

/** A signed Standard Webhooks delivery to the tenant's endpoint. */
export async function sendWebhook(
  tenant: { id: string; webhookSecret: string },
  event: unknown,
  opts: { id?: string; timestamp?: number; secret?: string; contentType?: string; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const body = opts.rawBody ?? JSON.stringify(event);
  const id = opts.id ?? `msg_${Date.now()}_${seq++}`;
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = await signWebhook(opts.secret ?? tenant.webhookSecret, id, ts, body);
  return call(`/webhooks/${tenant.id}`, {
    method: "POST",
    body,
    headers: {
      "content-type": opts.contentType ?? "application/json",
      "webhook-id": id,
      "webhook-timestamp": ts,
      "webhook-signature": signature,
      ...opts.headers,
    },
  });
}

/** A user event envelope. */
export function userEvent(type: string, data: Record<string, unknown>, timestamp = new Date().toISOString()) {
  return { type, timestamp, data };
}

/** An integration row for tests that need integrations before their API exists. */
export async function insertIntegration(tenantId: string, status: "pending" | "active" | "deactivated", provider = "zoho-crm"): Promise<string> {
  const id = `int_test${seq++}_${Math.random().toString(36).slice(2, 8)}`;
  const now = Date.now();
  await env.DB.prepare(
    "INSERT INTO integrations (id, tenant_id, provider, name, status, pending_actions, config, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '[]', '{}', ?, ?)",
  )
    .bind(id, tenantId, provider, `${provider} test`, status, now, now)
    .run();
  return id;
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A queue that only records what it is sent: nothing runs on its own, so a test delivers
 * each message itself (as the queue would, once or twice, in any order).
 */
export function recordingQueue() {
  const sent: JobMessage[] = [];
  /** Each message with the delay it was sent with (seconds; 0 for none). */
  const delays: number[] = [];
  const queue = {
    send: async (body: JobMessage, options?: QueueSendOptions) => {
      sent.push(body);
      delays.push(options?.delaySeconds ?? 0);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<JobMessage>>, options?: QueueSendBatchOptions) => {
      for (const m of messages) {
        sent.push(m.body);
        delays.push(m.delaySeconds ?? options?.delaySeconds ?? 0);
      }
    },
  } as unknown as Queue<JobMessage>;
  /** Takes the first message of a kind out of the record, with its delay. */
  function take<K extends JobMessage["kind"]>(kind: K): { body: Extract<JobMessage, { kind: K }>; delaySeconds: number } | null {
    const at = sent.findIndex((m) => m.kind === kind);
    if (at < 0) return null;
    const [body] = sent.splice(at, 1);
    const [delaySeconds] = delays.splice(at, 1);
    return { body: body as Extract<JobMessage, { kind: K }>, delaySeconds: delaySeconds ?? 0 };
  }
  return { queue, sent, take, pages: () => sent.filter((m) => m.kind === "run").map((m) => (m.kind === "run" ? m.page : -1)) };
}

/**
 * Moves time ahead without waiting: the hub's clock (this isolate's, `lib/clock.ts`) and
 * the emulators' (what counts their throttles and locks), together.
 */
export async function moveClocks(ms: number): Promise<void> {
  advanceClock(ms);
  const res = await fetch(`${env.EMULATOR_URL}/_emulator/clock`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ advanceMs: ms }) });
  if (!res.ok) throw new Error(`the emulators' clock did not move: ${res.status}`);
}

/** The real JOBS binding, observed: every sendBatch is counted and then really sent. */
export function observedQueue(real: Queue<JobMessage>) {
  const batches: JobMessage[][] = [];
  let sends = 0;
  const queue = {
    send: (body: JobMessage, options?: QueueSendOptions) => {
      sends++;
      return real.send(body, options);
    },
    sendBatch: (messages: Iterable<MessageSendRequest<JobMessage>>, options?: QueueSendBatchOptions) => {
      const list = [...messages];
      batches.push(list.map((m) => m.body));
      return real.sendBatch(list, options);
    },
  } as Queue<JobMessage>;
  return { queue, batches, sends: () => sends };
}

/** A sign-in token from the host app (HS256 with the tenant's SSO secret), as API.md describes it. */
export function ssoToken(t: Pick<TestTenant, "id" | "ssoSecret">, claims: Record<string, unknown> = {}, lifetimeS = 120, secret = t.ssoSecret) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ tenant: t.id, email: "admin@acme.example", name: "Admin", permissions: ["manage_integrations", "manage_users"], jti: crypto.randomUUID(), ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(typeof claims.sub === "string" ? claims.sub : "host-user-1")
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeS)
    .sign(new TextEncoder().encode(secret));
}

/** Signs in through `GET /auth/sso` and answers the session cookie (`name=value`). */
export async function sessionCookie(t: Pick<TestTenant, "id" | "ssoSecret">, claims: Record<string, unknown> = {}): Promise<string> {
  const res = await call(`/auth/sso?token=${await ssoToken(t, claims)}`);
  if (res.status !== 302) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

/** A session cookie (`name=value`) whose sign-in is `ageMs` old, as the hub would have set it then. */
export async function staleSessionCookie(t: Pick<TestTenant, "id">, ageMs = 11 * 60_000, permissions = ["manage_integrations", "manage_users"]): Promise<string> {
  const jwt = await new SignJWT({ tid: t.id, email: "admin@acme.example", name: "Admin", permissions, authTime: Date.now() - ageMs })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("host-user-1")
    .setAudience("usersync:session")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(env.SESSION_SECRET));
  return `usersync_session=${jwt}`;
}

/** Fires the cron (the minute's by default) as Cloudflare would, and waits for what it left running. */
export async function cronTick(cron = "* * * * *", scheduledTime = new Date(), bindings: typeof env = env): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron, scheduledTime }), bindings, ctx);
  await waitOnExecutionContext(ctx);
}

/** A sender's `webhook-signature` for a message, made by the Standard Webhooks library (the hub only verifies). */
export async function signWebhook(secret: string, id: string, timestamp: string, body: string): Promise<string> {
  return new Webhook(secret).sign(id, new Date(Number(timestamp) * 1000), body);
}
