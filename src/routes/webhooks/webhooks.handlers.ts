import { createFactory } from "hono/factory";
import * as v from "valibot";
import { unsafeKeyError, unsafeKeyPath } from "../../lib/json-keys";
import { applyChange, pushQueues, type ChangeKind } from "../../directory/ingest";
import { verifyWebhook } from "../../directory/signature";
import { webhookSecrets } from "../../directory/webhook-secrets";
import type { AppEnv } from "../../http/context";
import { AppError } from "../../http/errors";
import { checkIngestLimit, isJsonContentType, limitBody } from "../../http/middleware";
import { fieldErrors } from "../../http/validate";
import { dataSchema, webhookContract, WebhookEnvelope, type EventType } from "./webhooks.routes";

const KIND: Record<EventType, ChangeKind> = {
  "user.created": "upsert",
  "user.updated": "upsert",
  "user.disabled": "disable",
  "user.deleted": "delete",
};

/**
 * `POST /webhooks/{tenantId}`: verify over the raw bytes, then the tenant's limit, then
 * store (one D1 round trip) and enqueue.
 */
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
  const cached = await webhookSecrets(db, c.env.ENCRYPTION_KEY, tenantId);
  let verdict = await verifyWebhook(cached.secrets, headers, raw);
  if (verdict === "bad_signature" && cached.fromCache) {
    // Perhaps a secret newer than our copy (a rotation elsewhere): look again once.
    const fresh = await webhookSecrets(db, c.env.ENCRYPTION_KEY, tenantId, { refresh: true });
    verdict = await verifyWebhook(fresh.secrets, headers, raw);
  }
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
  if (!isJsonContentType(c.req.header("content-type"))) {
    throw new AppError("unsupported_media_type", "Send the event as application/json.");
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new AppError("malformed_json", "The body is not valid JSON.");
  }
  const unsafe = unsafeKeyPath(json);
  if (unsafe) throw AppError.validation([unsafeKeyError(unsafe)]);

  const envelope = v.safeParse(WebhookEnvelope, json);
  if (!envelope.success) throw AppError.validation(fieldErrors(envelope.issues));
  const data = v.safeParse(dataSchema(envelope.output.type), envelope.output.data);
  if (!data.success) throw AppError.validation(fieldErrors(data.issues, "data"));

  const result = await applyChange(
    db,
    pushQueues(c.env),
    tenantId,
    {
      kind: KIND[envelope.output.type],
      user: data.output,
      at: Date.parse(data.output.updatedAt ?? envelope.output.timestamp),
      reason: "webhook",
      webhook: { id: headers.id, type: envelope.output.type, body: raw },
    },
    { waitUntil: (p) => c.executionCtx.waitUntil(p) },
  );
  if (result.outcome === "duplicate") return c.json({ accepted: true, duplicate: true }, 200);
  return c.json({ accepted: true }, 202);
});
