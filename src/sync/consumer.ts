import { and, eq } from "drizzle-orm";
import { createDb, type Db } from "../db/client";
import { integrations, links } from "../db/schema";
import type { Env } from "../env";
import type { JobMessage, PushJob } from "./jobs";

/**
 * `queue()`: every job re-reads the integration and records the person's link as
 * `pending` for the connector to push. Idempotent: a duplicate job writes the same row.
 */
export async function handleQueue(batch: MessageBatch<JobMessage>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  for (const message of batch.messages) {
    try {
      await markPending(db, message.body);
      message.ack();
    } catch (err) {
      console.error(JSON.stringify({ level: "error", msg: "job failed", id: message.id, error: String(err) }));
      message.retry({ delaySeconds: Math.min(60 * 2 ** (message.attempts - 1), 3600) });
    }
  }
}

async function markPending(db: Db, job: PushJob): Promise<void> {
  const [integration] = await db
    .select({ status: integrations.status })
    .from(integrations)
    .where(and(eq(integrations.id, job.integrationId), eq(integrations.tenantId, job.tenantId)))
    .limit(1);
  // A deleted integration has nothing to push to; a deactivated one runs no jobs.
  if (!integration || integration.status !== "active") return;
  const now = Date.now();
  await db
    .insert(links)
    .values({ tenantId: job.tenantId, integrationId: job.integrationId, userId: job.userId, status: "pending", updatedAt: now })
    .onConflictDoUpdate({ target: [links.integrationId, links.userId], set: { status: "pending", updatedAt: now } });
}
