import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createTenant, cronTick, eventually, problem, type TestTenant } from "../helpers";
import { EMU, emu } from "../emulators/helpers";
import { createIntegration } from "../integrations/helpers";
import { connectedCrm, contacts, linkIn, send } from "../sync/helpers";

interface Delivery {
  id: string | null;
  verified: boolean;
  error: string | null;
  answered: number;
  body: { type: string; tenantId: string; integrationId: string; data: Record<string, unknown>; test?: boolean };
}

interface HandlerLog {
  kind: string;
  event: string | null;
  userId: string | null;
  status: string;
  httpStatus: number | null;
  durationMs: number | null;
  attempt: number | null;
  nextAttemptAt: string | null;
  detail: string | null;
}

/** A fresh receiver at the emulators that verifies with the tenant's event secret and answers `answers` first, then 200. */
async function receiver(t: TestTenant, answers: number[] = []) {
  const name = crypto.randomUUID();
  const res = await emu(`/_emulator/receivers/${name}`, { method: "PUT", json: { secret: t.eventSecret, answers } });
  expect(res.status).toBe(200);
  return {
    url: `${EMU}/receivers/${name}`,
    deliveries: async () => ((await (await emu(`/_emulator/receivers/${name}`)).json()) as { deliveries: Delivery[] }).deliveries,
  };
}

async function handlerLogs(t: TestTenant, integrationId: string, query = "") {
  const res = await call(`/v1/integrations/${integrationId}/handler-logs${query}`, { token: t.apiKey });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: HandlerLog[] }).data;
}

async function patchConfig(t: TestTenant, integrationId: string, config: Record<string, unknown>) {
  return call(`/v1/integrations/${integrationId}`, { method: "PATCH", json: { config }, token: t.apiKey });
}

const person = (id: string, extra: Record<string, unknown> = {}) => ({ id, email: `${id}@hub.example`, firstName: id, lastName: "Handler", ...extra });

describe("the before handler", () => {
  it("changes people on the way (e-mail domain by work location), skips those it gives null for, and a runaway expression skips only its person", async () => {
    const expr = `user.firstName = "Loop" ? ($f := function($n) { $f($n + 1) + 1 }; $f(0))
      : user.firstName = "Huge" ? $merge([user, { "lastName": $pad("", 200000, "x") }])
      : user.role = "contractor" ? null
      : user ~> | $ | { "email": $substringBefore(email, "@") & "@" & (workLocation = "Berlin" ? "acme.de" : "acme.com") } |`;
    const { t, integrationId } = await connectedCrm({ handlers: { before: { expr } } });
    await send(t, "user.created", person("u_berlin", { workLocation: "Berlin" }));
    await send(t, "user.created", person("u_paris", { workLocation: "Paris" }));
    await send(t, "user.created", person("u_contractor", { role: "contractor" }));
    await send(t, "user.created", person("u_loop", { firstName: "Loop" }));
    await send(t, "user.created", person("u_huge", { firstName: "Huge" }));

    await linkIn(integrationId, "u_berlin", ["synced"]);
    await linkIn(integrationId, "u_paris", ["synced"]);
    expect((await contacts("u_berlin@acme.de")).count).toBe(1);
    expect((await contacts("u_paris@acme.com")).count).toBe(1);
    expect((await contacts("u_berlin@hub.example")).count).toBe(0);

    const skipped = await linkIn(integrationId, "u_contractor", ["excluded"]);
    expect(skipped.last_error).toContain("skipped the person");
    const loop = await linkIn(integrationId, "u_loop", ["excluded"]);
    expect(loop.last_error).toMatch(/before handler failed: .*(steps|deep|stack)/i);
    const huge = await linkIn(integrationId, "u_huge", ["excluded"]);
    expect(huge.last_error).toMatch(/before handler failed: .*(string longer|larger than)/);
    expect((await contacts("u_loop@hub.example")).count + (await contacts("u_huge@hub.example")).count).toBe(0);

    const logs = await handlerLogs(t, integrationId, "?kind=before");
    expect(logs.find((l) => l.userId === "u_contractor")).toMatchObject({ kind: "before", status: "skipped" });
    expect(logs.find((l) => l.userId === "u_loop")).toMatchObject({ kind: "before", status: "failed" });
    expect(logs.find((l) => l.userId === "u_huge")).toMatchObject({ kind: "before", status: "failed" });
    expect(logs.some((l) => l.userId === "u_berlin")).toBe(false);
    // The sync log says `skip` for each, as API.md asks.
    const { results } = await env.DB.prepare("SELECT user_id, action, status FROM sync_logs WHERE integration_id = ? AND user_id IN ('u_contractor', 'u_loop')").bind(integrationId).all();
    expect(results).toEqual(expect.arrayContaining([expect.objectContaining({ user_id: "u_contractor", action: "skip", status: "skipped" }), expect.objectContaining({ user_id: "u_loop", action: "skip", status: "skipped" })]));
  }, 60_000);

  it("an expression that does not compile is refused at save with the parser's message and position, and the config is left as it was", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const res = await patchConfig(t, i.id, { handlers: { before: { expr: 'user ~> | $ | { "email": ' } } });
    expect(res.status).toBe(422);
    const body = await problem(res);
    const error = body.errors?.find((e: { path: string }) => e.path === "config.handlers.before.expr");
    expect(error?.message).toMatch(/Not a valid JSONata expression: .+ \(at \d+\)/);
    const stored = (await (await call(`/v1/integrations/${i.id}`, { token: t.apiKey })).json()) as { config: { handlers: unknown } };
    expect(stored.config.handlers).toEqual({});
  });
});

describe("the outbound URL guard on save", () => {
  it("refuses plain http, private, loopback, link-local and IPv6 unique-local URLs, and accepts an allow-listed local receiver", async () => {
    const t = await createTenant();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const refused = [
      "http://hooks.example.com/usersync",
      "https://10.1.2.3/hook",
      "https://127.0.0.1/hook",
      "https://0x7f000001/hook",
      "https://2130706433/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://[fd00::1]/hook",
      "https://[::ffff:127.0.0.1]/hook",
      "https://localhost/hook",
      "https://metadata.google.internal/hook",
    ];
    for (const url of refused) {
      const res = await patchConfig(t, i.id, { handlers: { after: { url, events: ["user.synced"] } } });
      expect(res.status, url).toBe(422);
      expect((await problem(res)).errors?.[0]?.path).toBe("config.handlers.after.url");
    }
    const local = await receiver(t);
    expect((await patchConfig(t, i.id, { handlers: { after: { url: local.url, events: ["user.synced"] } } })).status).toBe(200);
    expect((await patchConfig(t, i.id, { handlers: { after: { url: "https://hooks.example.com/usersync", events: ["user.synced"] } } })).status).toBe(200);
  });
});

describe("the after handler", () => {
  it("delivers signed events that the standardwebhooks library verifies; a 500 is retried under the same webhook-id", async () => {
    const t0 = await createTenant();
    // The receiver needs the tenant's secret: made with a tenant, then the integration points at it.
    const { t, integrationId } = await connectedCrm();
    const r = await receiver(t, [500]);
    expect((await patchConfig(t, integrationId, { handlers: { after: { url: r.url, events: ["user.synced", "user.failed"] } } })).status).toBe(200);
    await send(t, "user.created", person("u_event"));
    await linkIn(integrationId, "u_event", ["synced"]);
    const deliveries = await eventually(async () => {
      const d = await r.deliveries();
      return d.length >= 2 ? d : undefined;
    }, 30_000);
    expect(deliveries.map((d) => d.answered)).toEqual([500, 200]);
    expect(deliveries.every((d) => d.verified)).toBe(true);
    expect(deliveries[0]!.id).toBe(deliveries[1]!.id);
    expect(deliveries[0]!.body).toMatchObject({ type: "user.synced", tenantId: t.id, integrationId, data: { userId: "u_event", email: "u_event@hub.example", action: "create" } });
    expect(Object.keys(deliveries[0]!.body.data).sort()).toEqual(["action", "email", "remoteId", "remoteUrl", "userId"]);
    // Nothing secret rides along.
    expect(JSON.stringify(deliveries)).not.toContain(t.eventSecret.slice(6));
    expect(JSON.stringify(deliveries)).not.toContain(t0.apiKey);

    const logs = await eventually(async () => {
      const l = await handlerLogs(t, integrationId, "?kind=after");
      return l.length >= 2 ? l : undefined;
    });
    const [ok, retrying] = logs;
    expect(retrying).toMatchObject({ kind: "after", event: "user.synced", userId: "u_event", status: "retrying", httpStatus: 500, attempt: 1 });
    expect(retrying!.nextAttemptAt).not.toBeNull();
    expect(ok).toMatchObject({ status: "ok", httpStatus: 200, attempt: 2 });
    expect(ok!.durationMs).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it("stops delivering after three 410 Gone answers in a row, says why, and resumes when the handler is saved again", async () => {
    const { t, integrationId } = await connectedCrm();
    const r = await receiver(t, [410, 410, 410]);
    const after = { url: r.url, events: ["user.synced"] };
    expect((await patchConfig(t, integrationId, { handlers: { after } })).status).toBe(200);
    for (const id of ["u_gone1", "u_gone2", "u_gone3"]) await send(t, "user.created", person(id));
    const disabled = await eventually(async () => (await handlerLogs(t, integrationId, "?status=disabled"))[0], 30_000);
    expect(disabled.detail).toContain("410 Gone 3 times in a row");
    const row = await env.DB.prepare("SELECT after_disabled_reason FROM integrations WHERE id = ?").bind(integrationId).first<{ after_disabled_reason: string | null }>();
    expect(row!.after_disabled_reason).toContain("Save the after handler again");
    // The retries of the first two are not sent: three deliveries in all.
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    expect((await r.deliveries()).length).toBe(3);
    // Saved again: deliveries resume.
    expect((await patchConfig(t, integrationId, { handlers: { after } })).status).toBe(200);
    await send(t, "user.created", person("u_back"));
    await eventually(async () => ((await r.deliveries()).some((d) => d.answered === 200 && d.body.data.userId === "u_back") ? true : undefined), 20_000);
  }, 60_000);

  it("the test delivery sends a sample event now and answers the receiver's status; both outcomes are in the handler logs", async () => {
    const { t, integrationId } = await connectedCrm();
    const none = await call(`/v1/integrations/${integrationId}/handlers/test`, { method: "POST", json: {}, token: t.apiKey });
    expect(await none.json()).toMatchObject({ delivered: false, httpStatus: null });
    const r = await receiver(t, [503]);
    await patchConfig(t, integrationId, { handlers: { after: { url: r.url, events: ["run.completed"] } } });
    const first = await call(`/v1/integrations/${integrationId}/handlers/test`, { method: "POST", json: { event: "run.completed" }, token: t.apiKey });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ delivered: false, httpStatus: 503 });
    const second = await call(`/v1/integrations/${integrationId}/handlers/test`, { method: "POST", json: {}, token: t.apiKey });
    expect(await second.json()).toMatchObject({ delivered: true, httpStatus: 200 });
    const [d1, d2] = await r.deliveries();
    expect(d1).toMatchObject({ verified: true, body: { type: "run.completed", test: true } });
    expect(d2).toMatchObject({ verified: true, body: { type: "user.synced", test: true, data: { userId: "u_sample" } } });
    const logs = await handlerLogs(t, integrationId);
    expect(logs.slice(0, 2).map((l) => [l.status, l.httpStatus])).toEqual([
      ["ok", 200],
      ["failed", 503],
    ]);
    expect((await call(`/v1/integrations/${integrationId}/handlers/test`, { method: "POST", json: { event: "user.unknown" }, token: t.apiKey })).status).toBe(422);
  });

  it("run.completed and import.completed reach a subscribed handler; an event the queue lost is sent by the cron's sweep", async () => {
    const { t, integrationId } = await connectedCrm();
    const r = await receiver(t);
    await patchConfig(t, integrationId, { handlers: { after: { url: r.url, events: ["run.completed", "import.completed"] } } });
    const up = await call("/v1/imports", { method: "POST", headers: { "content-type": "text/csv" }, body: "Email,First Name,Last Name\nimp1@hub.example,Imp,One\n", token: t.apiKey });
    const imp = (await up.json()) as { id: string };
    const applied = await call(`/v1/imports/${imp.id}/apply`, { method: "POST", json: { mapping: { Email: "email", "First Name": "firstName", "Last Name": "lastName" } }, token: t.apiKey });
    const { runId } = (await applied.json()) as { runId: string };
    const imported = await eventually(async () => (await r.deliveries()).find((d) => d.body.type === "import.completed"), 20_000);
    expect(imported.body.data).toEqual({ importId: imp.id, runId, counts: expect.objectContaining({ created: 1 }) });
    const resync = await call(`/v1/integrations/${integrationId}/resync`, { method: "POST", json: {}, token: t.apiKey });
    const resyncRun = ((await resync.json()) as { runId: string }).runId;
    const completed = await eventually(async () => (await r.deliveries()).find((d) => d.body.type === "run.completed" && d.body.data.runId === resyncRun), 20_000);
    expect(completed.body.data).toMatchObject({ runId: resyncRun, kind: "resync", counts: expect.any(Object) });

    // An event stored but never queued (the isolate died in between): the cron sends it.
    const body = JSON.stringify({ type: "run.completed", timestamp: new Date().toISOString(), tenantId: t.id, integrationId, data: { runId: "run_lost", kind: "resync", counts: {} } });
    const past = Date.now() - 5 * 60_000;
    await env.DB.prepare("INSERT INTO events (id, tenant_id, integration_id, type, body, status, attempts, next_attempt_at, created_at, updated_at) VALUES ('evt_lost_one', ?, ?, 'run.completed', ?, 'pending', 0, ?, ?, ?)")
      .bind(t.id, integrationId, body, past, past, past)
      .run();
    await cronTick();
    const lost = await eventually(async () => (await r.deliveries()).find((d) => d.id === "evt_lost_one"), 20_000);
    expect(lost.verified).toBe(true);
  }, 90_000);
});

describe("the event secret", () => {
  it("is made with the tenant, shown once, and rotated; during the grace both secrets sign, so a receiver may switch", async () => {
    const t = await createTenant();
    expect(t.eventSecret).toMatch(/^whsec_/);
    const rotated = await call("/v1/secrets/rotate", { method: "POST", json: { which: "eventSecret" }, token: t.apiKey });
    expect(rotated.status).toBe(200);
    const { value } = (await rotated.json()) as { value: string };
    expect(value).toMatch(/^whsec_/);
    expect(value).not.toBe(t.eventSecret);
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const oldReceiver = await receiver(t);
    const newReceiver = await receiver({ ...t, eventSecret: value });
    for (const r of [oldReceiver, newReceiver]) {
      await patchConfig(t, i.id, { handlers: { after: { url: r.url, events: ["user.synced"] } } });
      await call(`/v1/integrations/${i.id}/handlers/test`, { method: "POST", json: {}, token: t.apiKey });
      expect((await r.deliveries())[0]!.verified).toBe(true);
    }
  });

  it("a tenant made before event secrets gets one on its first rotation", async () => {
    const t = await createTenant();
    await env.DB.prepare("DELETE FROM tenant_secrets WHERE tenant_id = ? AND kind = 'event'").bind(t.id).run();
    const i = await createIntegration(t, { provider: "zoho-crm" });
    const r = await receiver(t);
    await patchConfig(t, i.id, { handlers: { after: { url: r.url, events: ["user.synced"] } } });
    const without = await call(`/v1/integrations/${i.id}/handlers/test`, { method: "POST", json: {}, token: t.apiKey });
    expect(((await without.json()) as { detail: string }).detail).toContain("no event secret");
    const { value } = (await (await call("/v1/secrets/rotate", { method: "POST", json: { which: "eventSecret" }, token: t.apiKey })).json()) as { value: string };
    const r2 = await receiver({ ...t, eventSecret: value });
    await patchConfig(t, i.id, { handlers: { after: { url: r2.url, events: ["user.synced"] } } });
    expect(await (await call(`/v1/integrations/${i.id}/handlers/test`, { method: "POST", json: {}, token: t.apiKey })).json()).toMatchObject({ delivered: true });
  });
});
