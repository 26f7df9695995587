import { createMessageBatch, env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import type { PushJob } from "../../src/queue/messages";
import { resetEmulator } from "../emulators/helpers";
import { connectedCrm, link, linkIn, send } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

async function deadLetter(jobs: PushJob[]) {
  const batch = createMessageBatch<PushJob>(
    "usersync-jobs-dlq",
    jobs.map((body, i) => ({ id: `dlq-${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
  );
  await worker.queue(batch, env);
}

describe("14.13d every dead-lettered job leaves its person visibly failed", () => {
  it("a person with no link yet, and one whose link is behind the job, become failed with the reason; a newer synced link is left alone", async () => {
    const { t, integrationId } = await connectedCrm();
    await send(t, "user.created", { id: "u_new", email: "new@dlq.example", lastName: "New" });
    const synced = await linkIn(integrationId, "u_new", ["synced"]);
    await env.DB.prepare("INSERT INTO directory_users (tenant_id, id, email, email_lower, status, profile, version, source_updated_at, needs_push, created_at, updated_at) VALUES (?, 'u_never', 'never@dlq.example', 'never@dlq.example', 'active', '{}', 1, 0, 0, 0, 0)")
      .bind(t.id)
      .run();
    const job = (userId: string, version: number): PushJob => ({ kind: "push", tenantId: t.id, integrationId, userId, version, reason: "webhook" });

    await deadLetter([job("u_never", 1), job("u_new", 1)]);
    expect(await link(integrationId, "u_never")).toMatchObject({ status: "failed", failure_kind: "retry", last_error: "Gave up after every retry: no answer" });
    // u_new's link pushed version 1 already: an older or equal job does not undo it.
    expect(await link(integrationId, "u_new")).toMatchObject({ status: "synced", remote_id: synced.remote_id });

    // A change (v2) whose job was dead-lettered before it was pushed: failed, record kept.
    await env.DB.prepare("UPDATE directory_users SET version = 2 WHERE tenant_id = ? AND id = 'u_new'").bind(t.id).run();
    await deadLetter([job("u_new", 2)]);
    expect(await link(integrationId, "u_new")).toMatchObject({ status: "failed", failure_kind: "retry", remote_id: synced.remote_id });
  });
});
