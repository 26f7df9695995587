import * as v from "valibot";
import { Webhook } from "standardwebhooks";
import type { Db } from "../db/client";
import { claimAttempt, handlerLogStatements, overdueEvents, settleEventStatement, writeHandlerLogs } from "../db/events.repo";
import { AFTER_GONE_LIMIT, countAfterAnswer, getIntegrationRecord } from "../db/integrations.repo";
import type { EventRow, HandlerLogRow } from "../db/schema";
import { validSecrets } from "../db/tenants.repo";
import type { Env } from "../env";
import type { EventJob } from "../queue/messages";
import { EVENT_MAX_ATTEMPTS, eventRetryDelaySeconds } from "./retry";
import { ENGINE_CONFIG_ENTRIES, type HandlerEvent } from "../lib/config";
import { newId } from "../lib/ids";
import { errorText } from "../lib/log";
import { outboundFetch, OutboundRefused } from "../lib/outbound";
import { iso } from "../lib/time";
import { settings } from "../settings";
import { sendEventAttempts } from "../queue/send";

/**
 * Delivering events to `after` handlers (API.md "Handlers"), from the queue, never inline
 * in a sync. Each attempt is a Standard Webhooks request: `webhook-id` is the event's id on
 * every attempt, `webhook-timestamp` the attempt's time, `webhook-signature` one `v1,`
 * signature per valid event secret (two during a rotation's grace, so a receiver can
 * switch). A 2xx answer delivers the event; anything else, a timeout (15 s) or a refused
 * URL is tried again on `EVENT_RETRY_SCHEDULE` (`events/retry.ts`), for a little over 27 hours; the last
 * attempt fails the event. Three `410 Gone` answers in a row (any events) stop the
 * integration's deliveries until its handler is saved again. Every attempt is logged.
 */

export const DELIVERY_TIMEOUT_MS = 15_000;
const NO_EVENT_SECRET = 'The tenant has no event secret yet: create one with POST /v1/secrets/rotate {"which":"eventSecret"}.';
/** An attempt not settled after this long is taken for lost: the sweep tries again. */
const LEASE_MS = 60_000;

/** What one request to the receiver came to. */
export interface Attempted {
  delivered: boolean;
  httpStatus: number | null;
  durationMs: number;
  detail: string | null;
}

/** Signs and sends one body to `url`; never throws. */
export async function sendSigned(env: Env, url: string, id: string, body: string, secrets: string[], now: number): Promise<Attempted> {
  const timestamp = new Date(now);
  const signature = secrets.map((secret) => new Webhook(secret).sign(id, timestamp, body)).join(" ");
  const started = Date.now();
  try {
    const res = await outboundFetch(
      url,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "usersync-events/1",
          "webhook-id": id,
          "webhook-timestamp": String(Math.floor(now / 1000)),
          "webhook-signature": signature,
        },
        body,
      },
      { allow: settings(env).outboundAllowlist, timeoutMs: DELIVERY_TIMEOUT_MS },
    );
    await res.body?.cancel();
    const delivered = res.status >= 200 && res.status < 300;
    const detail = delivered ? null : res.status >= 300 && res.status < 400 ? `The receiver answered ${res.status}: redirects are not followed.` : `The receiver answered ${res.status}.`;
    return { delivered, httpStatus: res.status, durationMs: Date.now() - started, detail };
  } catch (err) {
    const durationMs = Date.now() - started;
    if (err instanceof OutboundRefused) return { delivered: false, httpStatus: null, durationMs, detail: `The URL is refused: ${err.message}` };
    if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) return { delivered: false, httpStatus: null, durationMs, detail: `No answer within ${DELIVERY_TIMEOUT_MS / 1000} s.` };
    return { delivered: false, httpStatus: null, durationMs, detail: `The request failed: ${errorText(err)}` };
  }
}

/** The tenant's valid event secrets, newest first (none for a tenant made before event secrets, until it rotates one). */
async function eventSecrets(db: Db, env: Env, tenantId: string, now: number): Promise<string[]> {
  return (await validSecrets(db, env.ENCRYPTION_KEY, tenantId, "event", now)).map((s) => s.value);
}

/** One attempt of a stored event, as its queue message asks. A message for an attempt already made, or an event settled, does nothing. */
export async function deliverEvent(db: Db, env: Env, job: EventJob, now = Date.now()): Promise<void> {
  const event = await claimAttempt(db, job.eventId, job.attempt, now, now + LEASE_MS);
  if (!event) return;
  const logLine = (fields: Partial<HandlerLogRow> & Pick<HandlerLogRow, "status">): HandlerLogRow => ({
    tenantId: event.tenantId,
    integrationId: event.integrationId,
    kind: "after",
    event: event.type,
    eventId: event.id,
    userId: userOf(event),
    attempt: event.attempts,
    at: Date.now(),
    ...fields,
  });
  const settle = async (status: EventRow["status"], line: HandlerLogRow, next = now) => {
    await db.batch([settleEventStatement(db, event.id, status, next, Date.now()), ...handlerLogStatements(db, [line])]);
  };

  const integration = await getIntegrationRecord(db, event.tenantId, event.integrationId);
  const after = integration ? afterHandlerOf(integration.config) : undefined;
  if (!integration || !after || !after.events.includes(event.type as HandlerEvent)) {
    return settle("dropped", logLine({ status: "skipped", detail: `Not sent: the integration's after handler no longer subscribes to ${event.type}.` }));
  }
  if (integration.afterDisabledReason) return settle("dropped", logLine({ status: "disabled", detail: `Not sent: ${integration.afterDisabledReason}` }));
  const secrets = await eventSecrets(db, env, event.tenantId, now);
  if (!secrets.length) {
    return settle("failed", logLine({ status: "failed", detail: NO_EVENT_SECRET }));
  }

  const result = await sendSigned(env, after.url, event.id, event.body, secrets, now);
  const answer = { httpStatus: result.httpStatus, durationMs: result.durationMs };
  const gone = result.httpStatus === 410;
  // The 410 streak is written only when it changes: most answers leave it at nothing.
  const state =
    gone || integration.afterGoneStreak > 0
      ? await countAfterAnswer(db, integration.id, gone, `The receiver answered 410 Gone ${AFTER_GONE_LIMIT} times in a row (last at ${iso(Date.now())}), so deliveries stopped. Save the after handler again to resume them.`)
      : { disabledReason: null };
  if (result.delivered) return settle("delivered", logLine({ status: "ok", ...answer }));
  if (state.disabledReason) return settle("dropped", logLine({ status: "disabled", ...answer, detail: `${result.detail} ${state.disabledReason}` }));
  if (event.attempts >= EVENT_MAX_ATTEMPTS) {
    return settle("failed", logLine({ status: "failed", ...answer, detail: `${result.detail} That was the last of ${EVENT_MAX_ATTEMPTS} attempts.` }));
  }
  const delay = eventRetryDelaySeconds(event.attempts);
  const next = Date.now() + delay * 1000;
  await settle("pending", logLine({ status: "retrying", ...answer, nextAttemptAt: next, detail: result.detail }), next);
  await sendEventAttempts(env, [{ id: event.id, tenantId: event.tenantId, attempt: event.attempts + 1 }], delay);
}

/**
 * The `after` handler of an integration's stored config. A stored handler that no longer
 * parses throws (the message is tried again, then dead-lettered) rather than dropping the event.
 */
function afterHandlerOf(config: Record<string, unknown>) {
  return v.parse(ENGINE_CONFIG_ENTRIES.handlers, config.handlers)?.after;
}

/** The person an event is about, if any, for the handler log. */
function userOf(event: EventRow): string | null {
  try {
    const body = JSON.parse(event.body) as { data?: { userId?: unknown } };
    return typeof body.data?.userId === "string" ? body.data.userId : null;
  } catch {
    return null;
  }
}

/** A pending event's message may be lost (or its attempt may have died): the cron sends again those overdue by a minute. */
export async function resendOverdueEvents(db: Db, env: Env, now: number): Promise<number> {
  const overdue = await overdueEvents(db, now, 60_000, 500);
  const give = overdue.filter((e) => e.attempts >= EVENT_MAX_ATTEMPTS);
  const again = overdue.filter((e) => e.attempts < EVENT_MAX_ATTEMPTS);
  if (give.length) {
    const [first, ...rest] = give.map((e) => settleEventStatement(db, e.id, "failed", now, now));
    await db.batch([first!, ...rest]);
    await writeHandlerLogs(
      db,
      give.map((e) => ({ tenantId: e.tenantId, integrationId: e.integrationId, kind: "after" as const, event: e.type, eventId: e.id, userId: userOf(e), status: "failed" as const, attempt: e.attempts, detail: `Its last attempt never settled; given up after ${EVENT_MAX_ATTEMPTS} attempts.`, at: now })),
    );
  }
  await sendEventAttempts(env, again.map((e) => ({ id: e.id, tenantId: e.tenantId, attempt: e.attempts + 1 })));
  return again.length;
}

/** A sample event for the test delivery: sent at once, not stored, logged like an attempt. */
export function sampleEvent(integration: { id: string; tenantId: string }, type: HandlerEvent, now: number): { id: string; body: string } {
  const data: Record<HandlerEvent, Record<string, unknown>> = {
    "user.synced": { userId: "u_sample", email: "sample.person@example.com", action: "update", remoteId: "sample-remote-id", remoteUrl: null },
    "user.failed": { userId: "u_sample", email: "sample.person@example.com", error: "A sample failure." },
    "user.excluded": { userId: "u_sample", reason: "excluded by scope (role in [\"program_manager\"])" },
    "run.completed": { runId: "run_sample", kind: "resync", counts: { created: 1, updated: 2, unchanged: 3, disabled: 0, excluded: 0, failed: 0 } },
    "run.held": { runId: "run_sample", kind: "resync", counts: { created: 0, updated: 0, unchanged: 0, disabled: 0, excluded: 0, failed: 0 } },
    "integration.reconnect_required": { reason: "A sample: the provider refused the refresh token." },
    "import.completed": { importId: "imp_sample", runId: "run_sample", counts: { created: 1, updated: 2, unchanged: 3, disabled: 0, excluded: 0, failed: 0 } },
  };
  const id = newId("evt");
  return { id, body: JSON.stringify({ type, timestamp: iso(now), tenantId: integration.tenantId, integrationId: integration.id, test: true, data: data[type] }) };
}

/** The test delivery (API.md): a sample event sent now to the handler's URL; answers what the receiver said. */
export async function testDelivery(db: Db, env: Env, integration: { id: string; tenantId: string; config: { handlers: { after?: { url: string } } } }, type: HandlerEvent): Promise<Attempted> {
  const after = integration.config.handlers.after;
  const now = Date.now();
  if (!after) return { delivered: false, httpStatus: null, durationMs: 0, detail: "The integration has no after handler: set its URL and events first." };
  const secrets = await eventSecrets(db, env, integration.tenantId, now);
  if (!secrets.length) return { delivered: false, httpStatus: null, durationMs: 0, detail: NO_EVENT_SECRET };
  const sample = sampleEvent(integration, type, now);
  const result = await sendSigned(env, after.url, sample.id, sample.body, secrets, now);
  await writeHandlerLogs(db, [
    {
      tenantId: integration.tenantId,
      integrationId: integration.id,
      kind: "after",
      event: type,
      eventId: sample.id,
      userId: null,
      status: result.delivered ? "ok" : "failed",
      httpStatus: result.httpStatus,
      durationMs: result.durationMs,
      attempt: 1,
      detail: `Test delivery.${result.detail ? ` ${result.detail}` : ""}`,
      at: Date.now(),
    },
  ]);
  return result;
}
