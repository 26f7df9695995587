import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { sweepBehind } from "../../src/schedule/sweep";
import { createTenant, recordingQueue } from "../helpers";
import { connectedCrm } from "../sync/helpers";

describe("#29.6 the sweep rotates through every integration and clears only what it re-sent", () => {
  it("with 200 integrations ahead of it, a person left behind is re-sent within two ticks, and stays marked until then", async () => {
    const crowd = await createTenant("Crowd");
    const now = Date.now();
    await env.DB.batch(
      Array.from({ length: 200 }, (_, i) =>
        env.DB.prepare("INSERT INTO integrations (id, tenant_id, provider, name, status, pending_actions, config, created_at, updated_at) VALUES (?1, ?2, 'zoho-crm', 'crowd', 'active', '[]', '{}', ?3, ?3)").bind(
          `int_aaa_${String(i).padStart(3, "0")}`,
          crowd.id,
          now,
        ),
      ),
    );
    const { t, integrationId } = await connectedCrm();
    // The crowd is connected too (the same connection facts; they have nobody to push).
    await env.DB.prepare("UPDATE integrations SET connection = (SELECT connection FROM integrations WHERE id = ?1) WHERE tenant_id = ?2").bind(integrationId, crowd.id).run();
    await env.DB.prepare("UPDATE integrations SET resync_due_at = ?1, reconcile_due_at = ?1 WHERE id = ?2").bind(Date.now() + 86_400_000, integrationId).run();
    const old = now - 10 * 60_000;
    await env.DB.prepare(
      "INSERT INTO directory_users (tenant_id, id, email, email_lower, last_name, status, profile, version, source_updated_at, needs_push, created_at, updated_at) VALUES (?1, 'u_marked', 'marked@rotation.example', 'marked@rotation.example', 'Marked', 'active', '{}', 1, 0, 1, ?2, ?2)",
    )
      .bind(t.id, old)
      .run();
    const db = createDb(env.DB);
    const marked = async () => (await env.DB.prepare("SELECT needs_push FROM directory_users WHERE tenant_id = ? AND id = 'u_marked'").bind(t.id).first<{ needs_push: number }>())!.needs_push;

    const sentTo = async () => {
      const { queue, sent } = recordingQueue();
      await sweepBehind(db, { ...env, JOBS: queue }, Date.now());
      return sent.filter((j) => j.kind === "push" && j.userId === "u_marked").map((j) => (j.kind === "push" ? j.integrationId : ""));
    };
    const first = await sentTo();
    // Whatever the first tick swept, the mark stays until the person's job was sent again.
    if (!first.length) expect(await marked()).toBe(1);
    const second = await sentTo();
    expect([...first, ...second]).toContain(integrationId);
    expect(await marked()).toBe(0);
  });
});
