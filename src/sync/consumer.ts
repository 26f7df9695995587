import { and, inArray, sql } from "drizzle-orm";
import { receivesJobs } from "../directory/ingest";
import { createDb, type Db } from "../db/client";
import { integrations, links } from "../db/schema";
import type { Env } from "../env";
import type { JobMessage } from "./jobs";

/**
 * `queue()`: a batch's jobs are grouped, their integrations read once, and each person's
 * link recorded as `pending` for the connector to push. Idempotent: a duplicate job
 * writes the same row. Jobs of deactivated or deleted integrations are acknowledged and
 * dropped (deactivated ones run nothing; the resync picks everyone up on activation).
 */
export async function handleQueue(batch: MessageBatch<JobMessage>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  try {
    await markPending(db, batch.messages.map((m) => m.body));
    batch.ackAll();
  } catch (err) {
    console.error(JSON.stringify({ level: "error", msg: "job batch failed", error: String(err) }));
    for (const message of batch.messages) message.retry({ delaySeconds: backoffSeconds(message.attempts) });
  }
}

/** Exponential back-off with full jitter, capped at an hour. */
export function backoffSeconds(attempts: number): number {
  const ceiling = Math.min(3600, 2 ** Math.min(attempts, 12));
  return Math.max(1, Math.round(Math.random() * ceiling));
}

async function markPending(db: Db, jobs: JobMessage[]): Promise<void> {
  const integrationIds = [...new Set(jobs.map((j) => j.integrationId))];
  const active = new Set<string>();
  for (let i = 0; i < integrationIds.length; i += 90) {
    const rows = await db
      .select({ id: integrations.id, tenantId: integrations.tenantId })
      .from(integrations)
      .where(and(inArray(integrations.id, integrationIds.slice(i, i + 90)), receivesJobs()));
    for (const r of rows) active.add(`${r.tenantId}/${r.id}`);
  }
  const now = Date.now();
  const rows = jobs
    .filter((j) => active.has(`${j.tenantId}/${j.integrationId}`))
    .map((j) => ({ tenantId: j.tenantId, integrationId: j.integrationId, userId: j.userId, status: "pending" as const, updatedAt: now }));
  if (!rows.length) return;
  // 5 bound parameters a row; D1 allows 100 a statement.
  const statements = [];
  for (let i = 0; i < rows.length; i += 20) {
    statements.push(
      db
        .insert(links)
        .values(rows.slice(i, i + 20))
        .onConflictDoUpdate({ target: [links.integrationId, links.userId], set: { status: sql`excluded.status`, updatedAt: sql`excluded.updated_at` } }),
    );
  }
  await db.batch(statements as [(typeof statements)[0], ...typeof statements]);
}
