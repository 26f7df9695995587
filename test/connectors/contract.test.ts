import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { CONNECTORS, ProviderError, type Connector, type PushConnector, type RecordOutcome } from "../../src/connectors";
import type { ConnectorContext, ProviderId } from "../../src/connectors/contract";
import { createDb } from "../../src/db/client";
import { connectorContext } from "../../src/integrations/connector-context";
import { getIntegration } from "../../src/integrations/store";
import { createTenant } from "../helpers";
import { calls, emu, resetEmulator, setFaults } from "../emulators/helpers";
import { connectThroughProvider, createIntegration } from "../integrations/helpers";
import { initialResyncSettled } from "../sync/helpers";

/**
 * The same behavioural checks against every connector that can push, over real HTTP to
 * the emulators. A new target joins by adding one entry to TARGETS.
 */
interface TargetFixture {
  provider: ProviderId;
  /** The emulator service its faults are aimed at. */
  service: string;
  object: string;
  /** The field that holds the matching key. */
  keyField: string;
  /** The consenting account. */
  account: string;
  /** A record that the provider takes. */
  valid(key: string): Record<string, unknown>;
  /** A record it refuses, and the field it names (providers that refuse records one by one). */
  invalid?: { record(key: string): Record<string, unknown>; field: string };
  /** A well-formed id no record has. */
  missingId: string;
  /** The emulator's counter of token refreshes. */
  tokenCall: string;
  /** Config the integration needs besides the defaults. */
  config?: Record<string, unknown>;
  /** Whether records open at a URL of the provider. */
  urls: boolean;
  /**
   * Providers whose create is an invitation (Zoho Connect): the record exists once the
   * person joins, which this does at the emulator.
   */
  join?(key: string): Promise<void>;
}

const TARGETS: TargetFixture[] = [
  {
    provider: "zoho-crm",
    service: "zoho-crm",
    object: "Contacts",
    keyField: "Email",
    account: "admin@acme.example",
    valid: (key) => ({ Email: key, First_Name: "Ada", Last_Name: "Lovelace" }),
    invalid: { record: (key) => ({ Email: key }), field: "Last_Name" },
    missingId: "5725767000999999999",
    tokenCall: "POST /zoho/us/accounts/oauth/v2/token",
    urls: true,
  },
  {
    provider: "zoho-connect",
    service: "zoho-connect",
    object: "members",
    keyField: "emailId",
    account: "admin@acme.example",
    valid: (key) => ({ emailId: key }),
    missingId: "79999999",
    tokenCall: "POST /zoho/us/accounts/oauth/v2/token",
    config: { networkId: "105000000001", groupRulesReviewed: true },
    urls: false,
    join: async (key) => void (await emu("/_emulator/zoho/connect/join", { method: "POST", json: { emails: [key] } })),
  },
];

/** Every connector with a push part has a fixture here. */
it("every connector that can push is in the contract suite", () => {
  const pushers = Object.values(CONNECTORS)
    .filter((c) => "push" in c && c.push !== undefined)
    .map((c) => c.facts.id);
  expect(TARGETS.map((t) => t.provider).sort()).toEqual(pushers.sort());
});

beforeEach(() => resetEmulator(false));

async function connected(fixture: TargetFixture): Promise<{ ctx: ConnectorContext; push: PushConnector }> {
  const t = await createTenant();
  const i = await createIntegration(t, { provider: fixture.provider, config: fixture.config ?? {} });
  await connectThroughProvider(t, i.id, fixture.account);
  await initialResyncSettled(i.id);
  const db = createDb(env.DB);
  const integration = (await getIntegration(db, t.id, i.id))!;
  const c: Connector = CONNECTORS[fixture.provider];
  if (!c.push) throw new Error(`${fixture.provider} has no push part`);
  const push = c.push;
  return { ctx: connectorContext(db, env, integration), push };
}

/** What a call threw, as a ProviderError. */
async function failure(work: Promise<unknown>): Promise<ProviderError> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

/** The id of a successful outcome; fails the test otherwise. */
function idOf(outcome: RecordOutcome | undefined): string {
  expect(outcome).toMatchObject({ ok: true });
  return outcome?.ok ? (outcome.id ?? "") : "";
}

const unique = (name: string) => `${name}.${crypto.randomUUID().slice(0, 8)}@contract.example`;

/** Creates records and answers their ids: an invitation first has the person join. */
async function make(fixture: TargetFixture, ctx: ConnectorContext, push: PushConnector, keys: string[]): Promise<string[]> {
  const outcomes = await push.create(ctx, fixture.object, keys.map((k) => fixture.valid(k)), fixture.keyField);
  if (!fixture.join) return outcomes.map(idOf);
  for (const o of outcomes) expect(o).toEqual({ ok: true, id: null, action: "invite" });
  for (const k of keys) await fixture.join(k);
  const found = await push.find(ctx, fixture.object, fixture.keyField, keys);
  return keys.map((k) => found.find((r) => String(r.fields[fixture.keyField]).toLowerCase() === k.toLowerCase())!.id);
}

describe.each(TARGETS)("connector contract: $provider", (fixture) => {
  it("find-or-create stays exactly once when the provider applies a create and then fails", async () => {
    const { ctx, push } = await connected(fixture);
    const key = unique("once");
    await setFaults({ applyThenFail: { rate: 1, mode: "drop" }, services: [fixture.service] });
    if (fixture.join) {
      // An invitation whose answer was lost is not sent again (nothing lists open invitations
      // to look at): it counts as made, and says its answer was lost.
      const [outcome] = await push.create(ctx, fixture.object, [fixture.valid(key)], fixture.keyField);
      expect(outcome).toMatchObject({ ok: true, action: "invite", note: expect.stringContaining("lost") });
    } else {
      const err = await failure(push.create(ctx, fixture.object, [fixture.valid(key)], fixture.keyField));
      expect(err.kind).toBe("transient");
    }
    await emu("/_emulator/faults", { method: "DELETE" });
    // The retry after the unknown outcome finds the record instead of making a second.
    const [again] = await make(fixture, ctx, push, [key]);
    const found = await push.find(ctx, fixture.object, fixture.keyField, [key]);
    expect(found).toHaveLength(1);
    expect(again).toBe(found[0]!.id);
  });

  const invalid = fixture.invalid;
  if (invalid) it("per-record errors come back per record, in input order", async () => {
    const { ctx, push } = await connected(fixture);
    const [good, bad] = await push.create(ctx, fixture.object, [fixture.valid(unique("good")), invalid.record(unique("bad"))], fixture.keyField);
    expect(good).toMatchObject({ ok: true, action: "insert" });
    expect(bad).toMatchObject({ ok: false, error: "badData", field: invalid.field });
    expect(bad!.ok ? "" : bad!.message).not.toBe("");
    // An update of a record that is gone says so, for that record only.
    const id = idOf(good);
    const [kept, gone] = await push.update(ctx, fixture.object, [
      { id, fields: { ...fixture.valid(unique("kept")) } },
      { id: fixture.missingId, fields: fixture.valid(unique("gone")) },
    ]);
    expect(kept).toMatchObject({ ok: true, id });
    expect(gone).toMatchObject({ ok: false, error: "gone" });
  });

  it("a 429 becomes retryAfter with the provider's wait", async () => {
    const { ctx, push } = await connected(fixture);
    await setFaults({ rateLimit: { limit: 0, windowSeconds: 60 }, retryAfterSeconds: 7, services: [fixture.service] });
    const err = await failure(push.find(ctx, fixture.object, fixture.keyField, [unique("throttled")]));
    expect(err.kind).toBe("retryAfter");
    expect(err.retryAfterMs).toBe(7_000);
  });

  it("an expired token is refreshed once, and the call goes through", async () => {
    const { ctx, push } = await connected(fixture);
    const key = unique("expired");
    await make(fixture, ctx, push, [key]);
    await emu("/_emulator/tokens/expire", { method: "POST" });
    await emu("/_emulator/calls", { method: "DELETE" });
    await Promise.all([push.find(ctx, fixture.object, fixture.keyField, [key]), push.find(ctx, fixture.object, fixture.keyField, [key])]);
    expect((await calls()).calls[fixture.tokenCall]).toBe(1);
  });

  if (fixture.urls) it("the record URL opens the record at the provider", async () => {
    const { ctx, push } = await connected(fixture);
    const key = unique("url");
    const [id] = await make(fixture, ctx, push, [key]);
    const url = (await push.recordUrls(ctx, fixture.object))(id!);
    expect(url).not.toBeNull();
    const page = await fetch(url!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(key);
    expect((await fetch((await push.recordUrls(ctx, fixture.object))(fixture.missingId)!)).status).toBe(404);
  });

  it("lists every record in id order, page after page", async () => {
    const { ctx, push } = await connected(fixture);
    const keys = [unique("list1"), unique("list2"), unique("list3")];
    await make(fixture, ctx, push, keys);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page++) {
      const { records, more } = await push.list(ctx, fixture.object, [fixture.keyField], after);
      seen.push(...records.map((r) => r.id));
      for (const r of records) if (keys.includes(String(r.fields[fixture.keyField]))) keys.splice(keys.indexOf(String(r.fields[fixture.keyField])), 1);
      after = records.at(-1)?.id ?? after;
      if (!more) break;
    }
    expect(keys).toEqual([]);
    expect([...seen].sort()).toEqual(seen);
  });

  it("removes by id, and a record already gone counts as removed", async () => {
    const { ctx, push } = await connected(fixture);
    const [id] = await make(fixture, ctx, push, [unique("removed")]);
    expect(await push.get(ctx, fixture.object, id!)).toMatchObject({ id });
    expect(await push.remove(ctx, fixture.object, [id!])).toEqual([{ ok: true, id, action: "delete" }]);
    expect(await push.get(ctx, fixture.object, id!)).toBeNull();
    expect(await push.remove(ctx, fixture.object, [id!])).toEqual([{ ok: true, id, action: "delete" }]);
    expect(push.isRecordId(id!)).toBe(true);
    expect(push.isRecordId("not an id")).toBe(false);
  });
});

/**
 * The same checks against every connector that can pull (a source), over real HTTP to
 * the emulators. A new source joins by adding one entry to SOURCES.
 */
interface SourceFixture {
  provider: ProviderId;
  account: string;
  tokenCall: string;
  /** Adds `count` people at the emulator. */
  seed(count: number): Promise<void>;
  /** Changes one of them at the emulator. */
  touch(): Promise<void>;
  /** Makes the provider refuse calls for a while (a lock, a throttle). */
  lock(): Promise<void>;
  /** Calls the emulator answered with people so far. */
  served(): Promise<number>;
}

const peopleThrottle = async () => (await (await emu("/_emulator/zoho/people-throttle")).json()) as { served: unknown[] };

const SOURCES: SourceFixture[] = [
  {
    provider: "zoho-people",
    account: "admin@acme.example",
    tokenCall: "POST /zoho/us/accounts/oauth/v2/token",
    seed: async (count) => void (await emu("/_emulator/zoho/people", { method: "POST", json: { count } })),
    touch: async () => void (await emu("/_emulator/zoho/people/S000007", { method: "PUT", json: { Department: "Moved" } })),
    lock: async () => void (await emu("/_emulator/zoho/people-throttle", { method: "PUT", json: { lockForSeconds: 60 } })),
    served: async () => (await peopleThrottle()).served.length,
  },
];

it("every connector that can pull is in the contract suite", () => {
  const pullers = Object.values(CONNECTORS)
    .filter((c) => "pull" in c && c.pull !== undefined)
    .map((c) => c.facts.id);
  expect(SOURCES.map((s) => s.provider).sort()).toEqual(pullers.sort());
});

async function connectedSource(fixture: SourceFixture, config: Record<string, unknown> = {}) {
  const t = await createTenant();
  const i = await createIntegration(t, { provider: fixture.provider, config });
  await connectThroughProvider(t, i.id, fixture.account);
  await initialResyncSettled(i.id);
  const db = createDb(env.DB);
  const integration = (await getIntegration(db, t.id, i.id))!;
  const c: Connector = CONNECTORS[fixture.provider];
  const pull = c.pull;
  if (!pull) throw new Error(`${fixture.provider} has no pull part`);
  return { ctx: connectorContext(db, env, integration), pull };
}

describe.each(SOURCES)("source contract: $provider", (fixture) => {
  it("a full pull pages through every person, each with an id, an e-mail and a modified time", async () => {
    await fixture.seed(450);
    const { ctx, pull } = await connectedSource(fixture);
    const seen = new Set<string>();
    let offset = 0;
    for (let page = 0; page < 100; page++) {
      const { records, more } = await pull.pull(ctx, { since: null, offset });
      for (const r of records) {
        expect(r.remoteId).not.toBe("");
        expect(r.personId).not.toBe("");
        expect(r.user.email).toContain("@");
        expect(r.modifiedAt).toBeGreaterThan(0);
        seen.add(r.remoteId);
      }
      offset += records.length;
      if (!more) break;
    }
    expect(seen.size).toBe(450);
  });

  it("a pull since a time answers only the people changed after it", async () => {
    await fixture.seed(30);
    const { ctx, pull } = await connectedSource(fixture);
    const since = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    await fixture.touch();
    const { records, more } = await pull.pull(ctx, { since, offset: 0 });
    expect(records).toHaveLength(1);
    expect(more).toBe(false);
  });

  it("a locked or throttled provider becomes retryAfter with a wait", async () => {
    await fixture.seed(5);
    const { ctx, pull } = await connectedSource(fixture);
    await fixture.lock();
    const err = await failure(pull.pull(ctx, { since: null, offset: 0 }));
    expect(err.kind).toBe("retryAfter");
    expect(err.retryAfterMs).toBeGreaterThan(0);
  });

  it("every request is counted against the integration's limits: past them the call waits, and the provider is not asked", async () => {
    await fixture.seed(5);
    // The first (full) pull at connect spent one of the two calls a minute.
    const { ctx, pull } = await connectedSource(fixture, { throttle: { requestsPerMinute: 2 } });
    await pull.pull(ctx, { since: null, offset: 0 });
    const before = await fixture.served();
    const err = await failure(pull.pull(ctx, { since: null, offset: 0 }));
    expect(err.kind).toBe("retryAfter");
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(await fixture.served()).toBe(before);
  });

  it("an expired token is refreshed once, and the pull goes through", async () => {
    await fixture.seed(5);
    const { ctx, pull } = await connectedSource(fixture);
    await emu("/_emulator/tokens/expire", { method: "POST" });
    await emu("/_emulator/calls", { method: "DELETE" });
    await Promise.all([pull.pull(ctx, { since: null, offset: 0 }), pull.pull(ctx, { since: null, offset: 0 })]);
    expect((await calls()).calls[fixture.tokenCall]).toBe(1);
  });
});
