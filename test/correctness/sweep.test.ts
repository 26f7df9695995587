import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { resetEmulator } from "../emulators/helpers";
import { cronTick, eventually } from "../helpers";
import { connectedCrm, contacts, link, linkIn, send } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

describe("14.9 and 14.13g jobs lost with the process are sent again by the cron's sweep", () => {
  it("a change whose job was lost, a person marked needs_push and a person never pushed all reach Zoho after a tick", async () => {
    const { t, integrationId } = await connectedCrm();
    // The schedule is not due: only the sweep can act.
    await env.DB.prepare("UPDATE integrations SET resync_due_at = ?1, reconcile_due_at = ?1 WHERE id = ?2").bind(Date.now() + 86_400_000, integrationId).run();
    await send(t, "user.created", { id: "u_lost", email: "lost@sweep.example", lastName: "Before" });
    await linkIn(integrationId, "u_lost", ["synced"]);
    const old = Date.now() - 10 * 60_000;
    // A restart lost the job of u_lost's change (v2); u_marked's enqueue failed (needs_push);
    // u_never was written and its job never sent. All three changed ten minutes ago.
    await env.DB.batch([
      env.DB.prepare("UPDATE directory_users SET version = 2, last_name = 'After', updated_at = ? WHERE tenant_id = ? AND id = 'u_lost'").bind(old, t.id),
      env.DB.prepare("UPDATE links SET updated_at = ? WHERE integration_id = ? AND user_id = 'u_lost'").bind(old, integrationId),
      env.DB.prepare("INSERT INTO directory_users (tenant_id, id, email, email_lower, last_name, status, profile, version, source_updated_at, needs_push, created_at, updated_at) VALUES (?1, 'u_marked', 'marked@sweep.example', 'marked@sweep.example', 'Marked', 'active', '{}', 1, 0, 1, ?2, ?2)").bind(t.id, old),
      env.DB.prepare("INSERT INTO directory_users (tenant_id, id, email, email_lower, last_name, status, profile, version, source_updated_at, needs_push, created_at, updated_at) VALUES (?1, 'u_never', 'never@sweep.example', 'never@sweep.example', 'Never', 'active', '{}', 1, 0, 0, ?2, ?2)").bind(t.id, old),
    ]);
    await cronTick();
    await linkIn(integrationId, "u_marked", ["synced"]);
    await linkIn(integrationId, "u_never", ["synced"]);
    await eventually(async () => ((await link(integrationId, "u_lost"))?.pushed_version === 2 ? true : undefined));
    expect((await contacts("lost@sweep.example")).records).toEqual([expect.objectContaining({ Last_Name: "After" })]);
    const marked = await env.DB.prepare("SELECT needs_push FROM directory_users WHERE tenant_id = ? AND id = 'u_marked'").bind(t.id).first<{ needs_push: number }>();
    expect(marked!.needs_push).toBe(0);
  }, 30_000);

  it("a change younger than two minutes is left to its own job", async () => {
    const { t, integrationId } = await connectedCrm();
    await env.DB.prepare("UPDATE integrations SET resync_due_at = ?1, reconcile_due_at = ?1 WHERE id = ?2").bind(Date.now() + 86_400_000, integrationId).run();
    await env.DB.prepare("INSERT INTO directory_users (tenant_id, id, email, email_lower, last_name, status, profile, version, source_updated_at, needs_push, created_at, updated_at) VALUES (?1, 'u_fresh', 'fresh@sweep.example', 'fresh@sweep.example', 'Fresh', 'active', '{}', 1, 0, 0, ?2, ?2)")
      .bind(t.id, Date.now())
      .run();
    await cronTick();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await link(integrationId, "u_fresh")).toBeNull();
  }, 30_000);
});

describe("#29.16 a person whose job used up its retries for a passing reason is sent again by the sweep, without waiting for the daily resync", () => {
  it("a link failed for a passing reason reaches Zoho after a tick; one refused for its data is left to the person's next change", async () => {
    const { t, integrationId } = await connectedCrm();
    await env.DB.prepare("UPDATE integrations SET resync_due_at = ?1, reconcile_due_at = ?1 WHERE id = ?2").bind(Date.now() + 86_400_000, integrationId).run();
    const old = Date.now() - 10 * 60_000;
    // Found by the soak: 429s used up a job's retries; the dead-letter queue left the link failed.
    await env.DB.batch([
      env.DB.prepare("INSERT INTO directory_users (tenant_id, id, email, email_lower, last_name, status, profile, version, source_updated_at, needs_push, created_at, updated_at) VALUES (?1, 'u_gaveup', 'gaveup@sweep.example', 'gaveup@sweep.example', 'GaveUp', 'active', '{}', 1, 0, 0, ?2, ?2)").bind(t.id, old),
      env.DB.prepare("INSERT INTO links (tenant_id, integration_id, user_id, status, failure_kind, last_error, updated_at) VALUES (?1, ?2, 'u_gaveup', 'failed', 'retry', 'Gave up after every retry: Zoho answered TOO_MANY_REQUESTS.', ?3)").bind(t.id, integrationId, old),
      env.DB.prepare("INSERT INTO directory_users (tenant_id, id, email, email_lower, last_name, status, profile, version, source_updated_at, needs_push, created_at, updated_at) VALUES (?1, 'u_baddata', 'baddata@sweep.example', 'baddata@sweep.example', 'Bad', 'active', '{}', 1, 0, 0, ?2, ?2)").bind(t.id, old),
      env.DB.prepare("INSERT INTO links (tenant_id, integration_id, user_id, status, failure_kind, last_error, pushed_version, updated_at) VALUES (?1, ?2, 'u_baddata', 'failed', 'bad_data', 'Zoho refused the record.', 1, ?3)").bind(t.id, integrationId, old),
    ]);
    await cronTick();
    await linkIn(integrationId, "u_gaveup", ["synced"]);
    expect((await contacts("gaveup@sweep.example")).count).toBe(1);
    expect(await link(integrationId, "u_baddata")).toMatchObject({ status: "failed", failure_kind: "bad_data" });
  }, 30_000);
});
