import { and, asc, eq, gt } from "drizzle-orm";
import type { Db } from "../db/client";
import type { Integration } from "../db/integrations.repo";
import { directoryUsers, links } from "../db/schema";
import type { PushJob } from "./jobs";

const PAGE = 500;

/**
 * Re-sends the jobs parked while an integration could not run (its links left
 * `pending`), e.g. after it is reconnected. Pages through the links; one sendBatch per
 * 100 people. Answers how many jobs were sent.
 */
export async function requeuePending(db: Db, queue: Queue<PushJob>, integration: Pick<Integration, "id" | "tenantId">): Promise<number> {
  let after = "";
  let sent = 0;
  for (;;) {
    const rows = await db
      .select({ userId: links.userId, version: directoryUsers.version })
      .from(links)
      .innerJoin(directoryUsers, and(eq(directoryUsers.tenantId, links.tenantId), eq(directoryUsers.id, links.userId)))
      .where(and(eq(links.tenantId, integration.tenantId), eq(links.integrationId, integration.id), eq(links.status, "pending"), gt(links.userId, after)))
      .orderBy(asc(links.userId))
      .limit(PAGE);
    for (let i = 0; i < rows.length; i += 100) {
      await queue.sendBatch(
        rows.slice(i, i + 100).map((r) => ({
          body: { kind: "push", tenantId: integration.tenantId, integrationId: integration.id, userId: r.userId, version: r.version, reason: "resync" } satisfies PushJob,
          contentType: "json" as const,
        })),
      );
    }
    sent += rows.length;
    if (rows.length < PAGE) return sent;
    after = rows[rows.length - 1]!.userId;
  }
}
