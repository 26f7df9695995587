import { createFactory } from "hono/factory";
import * as v from "valibot";
import { openSecret } from "../../db/tenants.repo";
import { applyChange, loadIngestContext, type ChangeKind } from "../../directory/ingest";
import { verifyWebhook } from "../../directory/signature";
import type { AppEnv } from "../../http/context";
import { AppError } from "../../http/errors";
import { checkIngestLimit, limitBody } from "../../http/middleware";
import { fieldErrors } from "../../http/validate";
import { dataSchema, webhookContract, WebhookEnvelope, type EventType } from "./webhooks.routes";

const KIND: Record<EventType, ChangeKind> = {
  "user.created": "upsert",
  "user.updated": "upsert",
  "user.disabled": "disable",
  "user.deleted": "delete",
};

/** `POST /webhooks/{tenantId}`: verify over the raw bytes, then store, then enqueue. */
export const webhookHandlers = createFactory<AppEnv>().createHandlers(webhookContract, limitBody(), async (c) => {
  const tenantId = c.req.param("tenantId") ?? "";
  const db = c.get("db");
  const headers = {
    id: c.req.header("webhook-id"),
    timestamp: c.req.header("webhook-timestamp"),
    signature: c.req.header("webhook-signature"),
  };
  if (!headers.id || !headers.timestamp || !headers.signature) {
    throw AppError.unauthorized("Missing webhook-id, webhook-timestamp or webhook-signature.");
  }
  if (headers.id.length > 256) throw AppError.unauthorized("webhook-id is too long.");
  // The signature covers the raw bytes, never re-serialised JSON.
  const raw = await c.req.text();
  let json: unknown;
  let parsed = true;
  try {
    json = JSON.parse(raw);
  } catch {
    parsed = false;
  }
  const userId = parsed ? tentativeUserId(json) : null;

  // One round trip: secrets, the delivery id, the person and the active integrations.
  const ctx = await loadIngestContext(db, tenantId, userId, { webhookId: headers.id, withSecrets: true });
  const secrets = await Promise.all(
    ctx.secretRows
      .sort((a, b) => b.createdAt - a.createdAt)
      .map((r) => openSecret(c.env.ENCRYPTION_KEY, tenantId, "webhook", r.valueEnc)),
  );
  const verdict = await verifyWebhook(secrets, headers, raw);
  switch (verdict) {
    case "ok":
      break;
    case "missing_headers":
      throw AppError.unauthorized("Missing webhook-id, webhook-timestamp or webhook-signature.");
    case "bad_timestamp":
      throw AppError.unauthorized("webhook-timestamp is outside the ±5 minute window.");
    case "bad_signature":
      throw AppError.unauthorized("The signature does not match.");
  }

  await checkIngestLimit(c.env.INGEST_LIMITER, tenantId);
  if (!/^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    throw new AppError("unsupported_media_type", "Send the event as application/json.");
  }
  if (!parsed) throw new AppError("malformed_json", "The body is not valid JSON.");
  if (ctx.duplicate) return c.json({ accepted: true, duplicate: true }, 200);

  const envelope = v.safeParse(WebhookEnvelope, json);
  if (!envelope.success) throw AppError.validation(fieldErrors(envelope.issues));
  const data = v.safeParse(dataSchema(envelope.output.type), envelope.output.data);
  if (!data.success) throw AppError.validation(fieldErrors(data.issues, "data"));

  const result = await applyChange(
    db,
    c.env.JOBS,
    tenantId,
    {
      kind: KIND[envelope.output.type],
      user: data.output,
      at: Date.parse(data.output.updatedAt ?? envelope.output.timestamp),
      reason: "webhook",
      webhook: { id: headers.id, type: envelope.output.type, body: raw },
    },
    ctx,
    { waitUntil: (p) => c.executionCtx.waitUntil(p) },
  );
  if (result.outcome === "duplicate") return c.json({ accepted: true, duplicate: true }, 200);
  return c.json({ accepted: true }, 202);
});

function tentativeUserId(json: unknown): string | null {
  if (typeof json !== "object" || json === null || !("data" in json)) return null;
  const data = json.data;
  if (typeof data !== "object" || data === null || !("id" in data)) return null;
  return typeof data.id === "string" ? data.id : null;
}
