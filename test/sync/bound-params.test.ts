import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { forgetHashesStatement } from "../../src/db/sync.repo";
import { createTenant, insertIntegration } from "../helpers";

/**
 * D1 takes at most 100 bound parameters a statement. A push page of a resync may hold
 * 2,000 people, and any number of them may be overtaken by a newer version while it
 * writes: the statement that makes them be pushed again must take them all.
 */
describe("statements over many people", () => {
  it("forgets the pushed payload of 2,000 overtaken people in one statement", async () => {
    const t = await createTenant();
    const integrationId = await insertIntegration(t.id, "active");
    const ids = Array.from({ length: 2000 }, (_, i) => `over-${String(i).padStart(4, "0")}`);
    const now = Date.now();
    for (let i = 0; i < ids.length; i += 400) {
      const part = ids.slice(i, i + 400);
      await env.DB.prepare(
        `INSERT INTO links (tenant_id, integration_id, user_id, status, payload_hash, updated_at) SELECT ?, ?, value, 'synced', 'hash', ? FROM json_each(?)`,
      )
        .bind(t.id, integrationId, now, JSON.stringify(part))
        .run();
    }
    const db = createDb(env.DB);
    await db.batch([forgetHashesStatement(db, integrationId, ids)]);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM links WHERE integration_id = ? AND payload_hash IS NOT NULL").bind(integrationId).first<{ n: number }>();
    expect(left!.n).toBe(0);
  });
});
