import { lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { webhookEvents } from "../db/schema";
import { deleteExpiredStates } from "../integrations/oauth-state";

/** How long webhook ids (idempotency) and delivery bodies are kept. */
export const WEBHOOK_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Deletes what is past its retention (webhook records, expired OAuth states); returns how many rows went. */
export async function housekeeping(db: Db, now = Date.now()): Promise<{ webhookEvents: number; oauthStates: number }> {
  const res = await db.delete(webhookEvents).where(lt(webhookEvents.receivedAt, now - WEBHOOK_RETENTION_MS));
  return { webhookEvents: res.meta.changes ?? 0, oauthStates: await deleteExpiredStates(db, now) };
}
