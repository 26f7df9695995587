import { Hono } from "hono";
import { Webhook } from "standardwebhooks";

/**
 * A stand-in for a tenant's `after` handler receiver (development and tests only): it
 * verifies each delivery with the official `standardwebhooks` library, as a real receiver
 * should, records it, and answers the statuses it was told to, in order (then 200).
 *
 * - `PUT /_emulator/receivers/{name}` `{ "secret": "whsec_…", "answers"?: [500, 410, …], "delayMs"? }` resets it;
 * - `POST /receivers/{name}` is the receiver;
 * - `GET /_emulator/receivers/{name}` → `{ "deliveries": [{ "id", "timestamp", "verified", "error", "answered", "body" }] }`.
 */
interface Delivery {
  id: string | null;
  timestamp: string | null;
  verified: boolean;
  error: string | null;
  answered: number;
  body: unknown;
}

interface Receiver {
  secret: string;
  answers: number[];
  delayMs: number;
  deliveries: Delivery[];
}

const receivers = new Map<string, Receiver>();

export const receiver = new Hono()
  .put("/_emulator/receivers/:name", async (c) => {
    const body = (await c.req.json()) as Partial<Receiver>;
    if (typeof body.secret !== "string") return c.json({ error: "secret is required" }, 400);
    receivers.set(c.req.param("name"), { secret: body.secret, answers: [...(body.answers ?? [])], delayMs: body.delayMs ?? 0, deliveries: [] });
    return c.json({ ok: true });
  })
  .get("/_emulator/receivers/:name", (c) => {
    const r = receivers.get(c.req.param("name"));
    return r ? c.json({ deliveries: r.deliveries }) : c.json({ error: "no such receiver" }, 404);
  })
  .post("/receivers/:name", async (c) => {
    const r = receivers.get(c.req.param("name"));
    if (!r) return c.json({ error: "no such receiver" }, 404);
    const payload = await c.req.text();
    const headers = Object.fromEntries(["webhook-id", "webhook-timestamp", "webhook-signature"].map((h) => [h, c.req.header(h) ?? ""]));
    let verified = false;
    let error: string | null = null;
    try {
      new Webhook(r.secret).verify(payload, headers);
      verified = true;
    } catch (err) {
      error = (err as Error).message;
    }
    if (r.delayMs) await new Promise((resolve) => setTimeout(resolve, r.delayMs));
    const answered = r.answers.shift() ?? 200;
    let body: unknown = payload;
    try {
      body = JSON.parse(payload);
    } catch {
      // kept as text
    }
    r.deliveries.push({ id: headers["webhook-id"] || null, timestamp: headers["webhook-timestamp"] || null, verified, error, answered, body });
    return c.json({ received: verified }, answered as 200);
  });
