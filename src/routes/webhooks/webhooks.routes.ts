import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import { isoDateTime, UserInput, UserRef } from "../../lib/user-fields";
import { jsonResponse, problems, PUBLIC } from "../../http/openapi";

export const EVENT_TYPES = ["user.created", "user.updated", "user.disabled", "user.deleted"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The envelope; unknown envelope keys are tolerated (senders add their own), `data` is strict. */
export const WebhookEnvelope = v.looseObject({
  type: v.picklist(EVENT_TYPES, `Expected one of ${EVENT_TYPES.join(", ")}.`),
  timestamp: isoDateTime,
  data: v.unknown(),
});

/** `data` of each event type: a full user to create or update, else a reference. */
export function dataSchema(type: EventType) {
  return type === "user.created" || type === "user.updated" ? UserInput : UserRef;
}

const Accepted = v.object({ accepted: v.literal(true), duplicate: v.optional(v.literal(true)) });

export const webhookContract = describeRoute({
  tags: ["Directory"],
  summary: "A user event from the host app, signed per Standard Webhooks",
  security: PUBLIC,
  description:
    "Headers webhook-id, webhook-timestamp (unix seconds, ±5 minutes) and webhook-signature (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, several allowed). 202 once stored; the same webhook-id again answers 200 with duplicate: true and has no second effect. An event older than the stored version is stored and ignored.",
  requestBody: {
    content: {
      "application/json": {
        example: {
          type: "user.created",
          timestamp: "2026-11-21T10:00:00Z",
          data: { id: "u_123", email: "Ada@example.com", firstName: "Ada", lastName: "Lovelace", role: "mentee" },
        },
      },
    },
  },
  responses: {
    202: jsonResponse("Stored and queued", Accepted),
    200: jsonResponse("Already received (same webhook-id)", Accepted),
    ...problems(400, 401, 413, 415, 422, 429),
  },
});
