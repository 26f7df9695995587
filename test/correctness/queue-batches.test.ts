import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { getIntegration } from "../../src/integrations/store";
import { pushGroup } from "../../src/sync/push";
import { eventually } from "../helpers";
import { resetEmulator, setFaults } from "../emulators/helpers";
import { connectedCrm } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

/** Inserts `n` active people straight into the directory, at version 1. */
async function people(tenantId: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `u_over_${String(i).padStart(3, "0")}`);
  const now = Date.now();
  await env.DB.batch(
    ids.map((id) =>
      env.DB.prepare(
        "INSERT INTO directory_users (tenant_id, id, email, email_lower, last_name, status, profile, version, source_updated_at, needs_push, created_at, updated_at) VALUES (?1, ?2, ?3, ?3, 'Before', 'active', '{}', 1, 0, 0, ?4, ?4)",
      ).bind(tenantId, id, `${id}@overtaken.example`, now),
    ),
  );
  return ids;
}

describe("#29.5 every sendBatch is split at 100 messages", () => {
  it("a push whose 150 people are all overtaken while it writes sends all 150 again and ends done", async () => {
    const { t, integrationId } = await connectedCrm();
    const ids = await people(t.id, 150);
    const db = createDb(env.DB);
    const integration = (await getIntegration(db, t.id, integrationId))!;
    // Zoho answers slowly; meanwhile every person gets a newer version.
    await setFaults({ latencyMs: 1500, services: ["zoho-crm"] });
    const push = pushGroup(db, env, integration, ids);
    await new Promise((r) => setTimeout(r, 300));
    await env.DB.prepare("UPDATE directory_users SET version = 2, last_name = 'After' WHERE tenant_id = ?").bind(t.id).run();
    expect((await push).kind).toBe("done");
    await setFaults({});
    // The jobs sent again push version 2 to everyone.
    await eventually(async () => {
      const row = await env.DB.prepare("SELECT count(*) AS n FROM links WHERE integration_id = ? AND pushed_version = 2").bind(integrationId).first<{ n: number }>();
      return row!.n === 150 ? true : undefined;
    }, 30_000);
  }, 60_000);
});
