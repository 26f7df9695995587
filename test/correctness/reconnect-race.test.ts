import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { getIntegration, type Integration } from "../../src/integrations/store";
import { getAccessToken, markReconnect } from "../../src/integrations/tokens";
import { CONNECTORS } from "../../src/connectors";
import { connectorContext } from "../../src/integrations/connector-context";
import { createTenant, type TestTenant } from "../helpers";
import { resetEmulator } from "../emulators/helpers";
import { connectThroughProvider, createIntegration, credentialRow } from "../integrations/helpers";
import { initialResyncSettled } from "../sync/helpers";

beforeEach(() => resetEmulator(false));

/**
 * A job loads its integration when it starts and works with that copy for a while. An
 * admin reconnects meanwhile (here to another account, in another data centre). What the
 * job then does with its stale copy must not undo the reconnect.
 */
async function reconnectedUnderAJob(secondAccount: string) {
  const t = await createTenant();
  const i = await createIntegration(t, { provider: "zoho-crm" });
  await connectThroughProvider(t, i.id, "admin@acme.example");
  await initialResyncSettled(i.id);
  const db = createDb(env.DB);
  const stale = (await getIntegration(db, t.id, i.id))!;
  await connectThroughProvider(t, i.id, secondAccount);
  await initialResyncSettled(i.id);
  const fresh = (await getIntegration(db, t.id, i.id))!;
  return { t, db, stale, fresh };
}

async function expectStillConnected(t: TestTenant, fresh: Integration) {
  const now = (await getIntegration(createDb(env.DB), t.id, fresh.id))!;
  expect(now.status).toBe("active");
  expect(now.pendingActions).toEqual([]);
  expect(now.connection).toEqual(fresh.connection);
  expect(await credentialRow(fresh.id)).not.toBeNull();
}

describe("14.7 a reconnect racing an in-flight push", () => {
  it("a refresh refused for the old connection does not delete the reconnect's credentials", async () => {
    const { t, db, stale, fresh } = await reconnectedUnderAJob("admin@acme-eu.example");
    // The old refresh token was refused while the reconnect was being stored.
    await markReconnect(db, env, stale, "The refresh token was revoked.");
    await expectStillConnected(t, fresh);
  });

  it("a refresh uses the connection stored with the credentials, not the job's stale copy", async () => {
    const { t, db, stale, fresh } = await reconnectedUnderAJob("admin@acme-eu.example");
    expect(fresh.connection!.dataCenter).toBe("eu");
    // The token the job used was refused: it refreshes. The refresh token is the EU one;
    // sent to the US accounts server of the stale copy, Zoho would refuse it.
    const token = await getAccessToken(db, env, stale, { rejectedVersion: 1_000 });
    expect(token.token).toMatch(/^1000\./);
    await expectStillConnected(t, fresh);
  });

  it("saving the org id does not write the stale connection back", async () => {
    const { t, db, stale, fresh } = await reconnectedUnderAJob("admin@acme.example");
    expect(fresh.connection!.connectedAt).not.toBe(stale.connection!.connectedAt);
    const url = await CONNECTORS["zoho-crm"].push.recordUrls(connectorContext(db, env, stale), "Contacts");
    expect(url("1")).toMatch(/^http/);
    const now = (await getIntegration(db, t.id, fresh.id))!;
    expect(now.connection!.connectedAt).toBe(fresh.connection!.connectedAt);
    await expectStillConnected(t, { ...fresh, connection: now.connection });
  });
});
