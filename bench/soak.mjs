// The soak (issue #20): does the hub lose, duplicate or mangle anything under a steady load
// with faults, duplicate and reordered deliveries, a CSV import and a restart in the middle?
//
// Against `wrangler dev` and the emulators over loopback only, bounded in requests and time:
// - three tenants, each with a Zoho CRM integration: A (US; a `before` handler that skips
//   department "Skipped" and upper-cases the department, an `after` receiver, onDelete
//   delete), B (US, onDelete ignore), C (EU, onDelete delete);
// - 5,000 creates, 5,000 updates, 500 disables and 200 deletes as signed webhooks at a
//   steady rate, 10 % of them delivered twice and 10 % late (after the person's next change);
// - a CSV import of 2,000 rows into B at a third of the way;
// - faults at the emulated Zoho CRM all along (20 % 5xx, applied-then-dropped writes,
//   429 bursts, latency spikes) and every access token expired twice;
// - `wrangler dev` killed (SIGKILL) half-way and started again on the same local state.
// Then faults off and, with only the minute's cron firing, the check until the hub has
// converged by itself (issue #29: within --selfConvergeSeconds, default 300, of the last
// event; its time and what was still wrong then are printed); then a resync and a
// reconciliation of each integration, and the check again:
// every person the directory should hold, with their latest values; every active person in
// scope at the emulator exactly once with those values (a disabled person's record is left
// as it was: Zoho CRM has no inactive state); excluded people absent; deletions as the
// policy says; no failed link; every `after` event delivered, verified, with a stable
// id; no 5xx from the hub. Prints one table and exits non-zero if a must-be-zero is not.
//
// Usage: npm run soak [-- --rate 60 --seed 20]
import { parseArgs } from "node:util";
import { emulatorSettings } from "../emulators/settings.mjs";
import { runToEnd, signWebhook, startEmulators, startHub, tenantWithCrm } from "./lib.mjs";

const { values: args } = parseArgs({
  options: {
    rate: { type: "string", default: "60" },
    seed: { type: "string", default: "20" },
    creates: { type: "string", default: "5000" },
    updates: { type: "string", default: "5000" },
    disables: { type: "string", default: "500" },
    deletes: { type: "string", default: "200" },
    csvRows: { type: "string", default: "2000" },
    convergeSeconds: { type: "string", default: "600" },
    selfConvergeSeconds: { type: "string", default: "300" },
  },
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const startedAt = Date.now();

// A small seeded generator (mulberry32), so that a run can be repeated exactly.
let seed = Number(args.seed) >>> 0;
function random() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];

// ---- The world ----------------------------------------------------------------------------

const emulators = await startEmulators({ port: 8798, logLevel: "none" });
const hub = await startHub({ port: 8797, vars: { PUBLIC_URL: "http://127.0.0.1:8797", ...emulatorSettings(emulators.url) }, extraArgs: ["--test-scheduled"] });
const emu = (path, init) => fetch(`${emulators.url}${path}`, init);
const putJson = (path, body) => emu(path, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

let exitCode = 1;
try {
  await emu("/_emulator/reset", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ seed: false }) });
  const BEFORE = 'user.department = "Skipped" ? null : user ~> | $ | { "department": $uppercase(department) } |';
  const specs = [
    { key: "a", dc: "us", loginHint: "admin@acme.example", config: { onDelete: "delete", maxDisablePercent: 100 } },
    { key: "b", dc: "us", loginHint: "admin@acme.example", config: { onDelete: "ignore" } },
    { key: "c", dc: "eu", loginHint: "admin@acme-eu.example", config: { onDelete: "delete", maxDisablePercent: 100 } },
  ];
  const tenants = [];
  for (const spec of specs) {
    const t = await tenantWithCrm(hub, emulators, { name: `Soak ${spec.key.toUpperCase()}`, loginHint: spec.loginHint, config: spec.config });
    tenants.push({ ...spec, ...t, domain: `${spec.key}.soak.example`, people: new Map() });
  }
  const a = tenants[0];
  await putJson("/_emulator/receivers/soak", { secret: a.tenant.eventSecret });
  const patched = await a.api(`/v1/integrations/${a.integration.id}`, {
    method: "PATCH",
    body: JSON.stringify({ config: { handlers: { before: { expr: BEFORE }, after: { url: `${emulators.url}/receivers/soak`, events: ["user.synced", "user.failed", "run.completed"] } } } }),
  });
  if (patched.status !== 200) throw new Error(`the handlers were refused: ${patched.status} ${await patched.text()}`);

  // ---- The events, in the order they happened (each a later timestamp) ----------------------

  const base = Date.now() - 3_600_000;
  const ops = [];
  const left = { create: Number(args.creates), update: Number(args.updates), disable: Number(args.disables), delete: Number(args.deletes) };
  const live = [];
  let created = 0;
  while (left.create + left.update + left.disable + left.delete > 0) {
    const total = left.create + left.update + left.disable + left.delete;
    let r = random() * total;
    let kind = Object.keys(left).find((k) => (r -= left[k]) < 0);
    // Nobody to change yet: create someone first.
    if (kind !== "create" && live.length < 20 && left.create > 0) kind = "create";
    if (kind !== "create" && live.length === 0) kind = "create";
    if (kind === "create" && left.create === 0) break;
    left[kind]--;
    const at = new Date(base + ops.length * 10).toISOString();
    if (kind === "create") {
      const t = tenants[created % tenants.length];
      const n = created++;
      const person = {
        id: `p${n}`,
        email: `p${n}@${t.domain}`,
        firstName: pick(["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken"]),
        lastName: `Created ${n}`,
        department: t.key === "a" && n % 37 === 0 ? "Skipped" : pick(["Sales", "Support", "Engineering"]),
        ...(n % 41 === 0 ? { role: "program_manager" } : {}),
      };
      const state = { tenant: t, data: person, status: "active" };
      t.people.set(person.id, state);
      if (!(t.key === "a" && person.department === "Skipped") && person.role === undefined) live.push(state);
      ops.push({ t, type: "user.created", data: { ...person }, at, id: `soak_${ops.length}` });
    } else {
      const i = Math.floor(random() * live.length);
      const state = live[i];
      if (kind === "update") {
        state.data = { ...state.data, firstName: pick(["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken"]), lastName: `Updated ${ops.length}`, department: pick(["Sales", "Support", "Engineering"]) };
        ops.push({ t: state.tenant, type: "user.updated", data: { ...state.data }, at, id: `soak_${ops.length}` });
      } else {
        state.status = kind === "disable" ? "disabled" : "deleted";
        live.splice(i, 1);
        ops.push({ t: state.tenant, type: kind === "disable" ? "user.disabled" : "user.deleted", data: { id: state.data.id, email: state.data.email }, at, id: `soak_${ops.length}` });
      }
    }
  }
  // The order they are delivered in: 10 % arrive late, after the next change of the same
  // person (so the hub must see them as stale), or after the next event if that person has
  // no later change; 10 % are delivered twice.
  const personOf = (op) => `${op.t.key}/${op.data.id}`;
  const nextOfPerson = new Map();
  const following = new Array(ops.length).fill(-1);
  for (let i = ops.length - 1; i >= 0; i--) {
    following[i] = nextOfPerson.get(personOf(ops[i])) ?? -1;
    nextOfPerson.set(personOf(ops[i]), i);
  }
  const lateAfter = new Map();
  const order = [];
  for (let i = 0; i < ops.length; i++) {
    if (i + 1 < ops.length && random() < 0.1) {
      const after = following[i] === -1 ? i + 1 : following[i];
      lateAfter.set(after, [...(lateAfter.get(after) ?? []), i]);
    } else order.push(i);
    order.push(...(lateAfter.get(i) ?? []));
  }
  const deliveries = order.map((i) => ops[i]);
  if (deliveries.length !== ops.length) throw new Error(`reordering lost events: ${deliveries.length} of ${ops.length}`);
  for (let i = deliveries.length - 1; i >= 0; i--) if (random() < 0.1) deliveries.splice(Math.min(deliveries.length, i + 1 + Math.floor(random() * 50)), 0, deliveries[i]);

  // ---- Sending, with the faults, the import and the restart ---------------------------------

  const stats = { sent: 0, accepted: 0, duplicates: 0, hub5xx: 0, refused: 0, waitedOut429: 0, connectionErrors: 0 };
  async function deliver(op) {
    const body = JSON.stringify({ type: op.type, timestamp: op.at, data: op.data });
    for (let tries = 0; ; tries++) {
      const ts = String(Math.floor(Date.now() / 1000));
      let res;
      try {
        res = await fetch(`${hub.url}/webhooks/${op.t.tenant.id}`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json", "webhook-id": op.id, "webhook-timestamp": ts, "webhook-signature": signWebhook(op.t.tenant.webhookSecret, op.id, ts, body) },
        });
        await res.arrayBuffer();
      } catch {
        // The hub is restarting: the sender tries again with the same webhook-id, as a host app would.
        stats.connectionErrors++;
        await sleep(500);
        continue;
      }
      if (res.status === 202) return stats.accepted++;
      if (res.status === 200) return stats.duplicates++;
      if (res.status === 429) {
        stats.waitedOut429++;
        await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
        continue;
      }
      if (res.status >= 500) stats.hub5xx++;
      else stats.refused++;
      if (tries > 20) throw new Error(`a webhook was answered ${res.status} ${tries} times`);
      await sleep(500);
    }
  }

  const BASE_FAULTS = { services: ["zoho-crm"], failureRate: 0.2, applyThenFail: { rate: 0.05, mode: "drop" } };
  const faultPhases = [BASE_FAULTS, { ...BASE_FAULTS, rateLimit: { limit: 3, windowSeconds: 2 }, retryAfterSeconds: 2 }, BASE_FAULTS, { ...BASE_FAULTS, latencyMs: 1500 }];
  // wrangler dev runs no Cron Triggers by itself: the soak fires the minute's cron, from
  // here to the end, as Cloudflare would.
  const cron = setInterval(() => fetch(`${hub.url}/__scheduled?cron=${encodeURIComponent("* * * * *")}`).catch(() => {}), 60_000);
  const rate = Number(args.rate);
  const sendStart = Date.now();
  const inflight = new Set();
  const milestones = {
    import: Math.floor(deliveries.length / 3),
    expire1: Math.floor(deliveries.length / 4),
    restart: Math.floor(deliveries.length / 2),
    expire2: Math.floor((deliveries.length * 3) / 4),
  };
  let importDone = null;
  let restarted = null;
  let phase = -1;
  for (let i = 0; i < deliveries.length; i++) {
    const due = sendStart + (i * 1000) / rate;
    await sleep(Math.max(0, due - Date.now()));
    const p = Math.floor((Date.now() - sendStart) / 5000) % faultPhases.length;
    if (p !== phase) {
      phase = p;
      await putJson("/_emulator/faults", faultPhases[p]);
    }
    if (i === milestones.expire1 || i === milestones.expire2) await emu("/_emulator/tokens/expire", { method: "POST" });
    if (i === milestones.import) importDone = csvImport(tenants[1]);
    if (i === milestones.restart) {
      restarted = Date.now();
      await hub.restart();
      restarted = Date.now() - restarted;
    }
    stats.sent++;
    if (i % 1000 === 0) console.error(`soak: ${i} of ${deliveries.length} sent, ${Math.round((Date.now() - sendStart) / 1000)} s`);
    const d = deliver(deliveries[i]).finally(() => inflight.delete(d));
    inflight.add(d);
  }
  await Promise.all(inflight);
  await importDone;
  const sendSeconds = (Date.now() - sendStart) / 1000;
  await emu("/_emulator/faults", { method: "DELETE" });
  const sentAt = Date.now();

  async function csvImport(t) {
    const rows = Number(args.csvRows);
    const lines = ["email,first_name,last_name,department"];
    for (let i = 0; i < rows; i++) {
      const person = { id: null, email: `csv${i}@${t.domain}`, firstName: "Imported", lastName: `Row ${i}`, department: "Imports" };
      lines.push(`${person.email},${person.firstName},${person.lastName},${person.department}`);
      t.people.set(person.email, { tenant: t, data: person, status: "active", imported: true });
    }
    const mapping = { email: "email", first_name: "firstName", last_name: "lastName", department: "department" };
    const call = async (path, init) => {
      for (;;) {
        try {
          return await t.api(path, init);
        } catch {
          await sleep(500);
        }
      }
    };
    const up = await call("/v1/imports", { method: "POST", headers: { "content-type": "text/csv" }, body: lines.join("\n") });
    if (up.status !== 201) throw new Error(`the import upload answered ${up.status}: ${await up.text()}`);
    const imp = await up.json();
    const ap = await call(`/v1/imports/${imp.id}/apply`, { method: "POST", body: JSON.stringify({ mapping, mode: "partial" }) });
    if (ap.status !== 202) throw new Error(`the import apply answered ${ap.status}: ${await ap.text()}`);
  }

  // The hub writes while the check reads (the cron keeps it busy): a locked database is read again.
  const sql = (q) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return hub.sql(q)[0].results;
      } catch (err) {
        if (attempt >= 20 || !/SQLITE_BUSY|database is locked/.test(String(err))) throw err;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      }
    }
  };
  /** A read of the emulators' state; read again when the emulators, busy with the hub, drop it. */
  async function emuJson(path) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await (await emu(path)).json();
      } catch (err) {
        if (attempt >= 10) throw err;
        await sleep(1000);
      }
    }
  }
  /** The must-be-zero problems of a check, counted. */
  const mustBeZero = (p) => Object.values(p).reduce((n, list) => n + list.length, 0);

  // ---- Converging by itself: nothing but the minute's cron, then the check -----------------

  console.error(`soak: every event sent in ${sendSeconds.toFixed(0)} s; faults off; waiting for the hub to converge by itself (the cron only)`);
  let selfResult;
  const selfDeadline = sentAt + Number(args.selfConvergeSeconds) * 1000;
  for (;;) {
    selfResult = await check();
    if (mustBeZero(selfResult.problems) === 0 || Date.now() > selfDeadline) break;
    await sleep(10_000);
  }
  const selfSeconds = (Date.now() - sentAt) / 1000;
  const selfBad = mustBeZero(selfResult.problems);
  if (selfBad) {
    console.error(`soak: not converged by itself after ${selfSeconds.toFixed(0)} s; the first 5 of each problem:`);
    for (const [k, list] of Object.entries(selfResult.problems)) if (list.length) console.error(k, JSON.stringify(list.slice(0, 5)));
  }

  // ---- Converging: a resync and a reconciliation of each integration, then the check ---------

  console.error(`soak: a resync and a reconciliation of each integration`);
  const runs = [];
  for (const t of tenants) {
    for (const kind of ["resync", "reconcile"]) {
      const { run, seconds } = await runToEnd(t.api, t.integration.id, kind, 600_000);
      runs.push({ tenant: t.key, kind, status: run.status, seconds, counts: run.counts });
    }
  }

  async function check() {
    const problems = { lostChanges: [], mismatches: [], remoteDuplicates: [], excludedPresent: [], failedLinks: [], lostAfterEvents: [], unstableEventIds: [] };
    let remoteRecords = 0;
    for (const t of tenants) {
      // The directory: each person's latest values and status.
      const rows = sql(`SELECT id, email, first_name, last_name, status, profile FROM directory_users WHERE tenant_id = '${t.tenant.id}'`);
      const byEmail = new Map(rows.map((r) => [r.email, r]));
      for (const p of t.people.values()) {
        const row = byEmail.get(p.data.email);
        // A disable or delete carries no names: if it arrived before the (older) create, the
        // create is stale and the names never reach the directory. Only the status counts then.
        const want = p.status === "active" ? { first_name: p.data.firstName, last_name: p.data.lastName, status: p.status, department: p.data.department } : { status: p.status };
        const got = row && { first_name: row.first_name, last_name: row.last_name, status: row.status, department: JSON.parse(row.profile).department };
        if (!got || Object.entries(want).some(([k, v]) => got[k] !== v)) problems.lostChanges.push({ tenant: t.key, email: p.data.email, want, got });
      }
      // The emulator: exactly once, with the latest values, for the people in scope.
      const { records } = await emuJson(`/_emulator/zoho/${t.dc}/crm/Contacts`);
      const mine = records.filter((r) => typeof r.Email === "string" && r.Email.endsWith(`@${t.domain}`));
      remoteRecords += mine.length;
      const remote = new Map();
      for (const r of mine) remote.set(r.Email, [...(remote.get(r.Email) ?? []), r]);
      for (const [email, list] of remote) if (list.length > 1) problems.remoteDuplicates.push({ tenant: t.key, email, count: list.length });
      for (const p of t.people.values()) {
        const found = remote.get(p.data.email) ?? [];
        const excluded = p.data.role === "program_manager" || (t.key === "a" && p.data.department === "Skipped");
        if (excluded) {
          if (found.length) problems.excludedPresent.push({ tenant: t.key, email: p.data.email });
          continue;
        }
        if (p.status === "deleted") {
          // onDelete delete: the record is gone; ignore: it may stay (once), untouched.
          if (t.config.onDelete === "delete" && found.length) problems.mismatches.push({ tenant: t.key, email: p.data.email, why: "deleted person still at the emulator" });
          continue;
        }
        // Zoho CRM has no inactive state: a disabled person's record, if it was made, is left as it was.
        if (p.status === "disabled") continue;
        const department = t.key === "a" ? p.data.department.toUpperCase() : p.data.department;
        const want = { First_Name: p.data.firstName, Last_Name: p.data.lastName, Department: department };
        if (found.length === 0) problems.mismatches.push({ tenant: t.key, email: p.data.email, why: "missing at the emulator" });
        else if (Object.entries(want).some(([k, v]) => found[0][k] !== v)) problems.mismatches.push({ tenant: t.key, email: p.data.email, want, got: Object.fromEntries(Object.keys(want).map((k) => [k, found[0][k]])) });
      }
      for (const l of sql(`SELECT user_id, last_error FROM links WHERE integration_id = '${t.integration.id}' AND status = 'failed'`)) problems.failedLinks.push({ tenant: t.key, ...l });
    }
    // The after events: every one the hub made for A arrived, verified, under one id.
    const made = sql(`SELECT id, type, status FROM events WHERE integration_id = '${a.integration.id}'`);
    const { deliveries: got } = await emuJson("/_emulator/receivers/soak");
    const verified = new Map();
    for (const d of got) {
      if (!d.verified) continue;
      const body = JSON.stringify(d.body);
      if (verified.has(d.id) && verified.get(d.id) !== body) problems.unstableEventIds.push(d.id);
      verified.set(d.id, body);
    }
    const madeIds = new Set(made.map((e) => e.id));
    for (const e of made) if (!verified.has(e.id)) problems.lostAfterEvents.push({ id: e.id, type: e.type, status: e.status });
    for (const id of verified.keys()) if (!madeIds.has(id)) problems.unstableEventIds.push(id);
    return { problems, remoteRecords, afterEventsMade: made.length, afterDeliveries: got.length };
  }

  let result;
  const deadline = Date.now() + Number(args.convergeSeconds) * 1000;
  for (;;) {
    result = await check();
    const bad = Object.values(result.problems).reduce((n, list) => n + list.length, 0);
    if (bad === 0 || Date.now() > deadline) break;
    // Event deliveries still under way (or retrying): the minute's cron re-sends stalled ones.
    await fetch(`${hub.url}/__scheduled?cron=${encodeURIComponent("* * * * *")}`).catch(() => {});
    await sleep(5000);
  }
  const convergeSeconds = (Date.now() - sentAt) / 1000;
  clearInterval(cron);
  const outcomes = Object.fromEntries(sql("SELECT outcome, count(*) AS n FROM webhook_events GROUP BY outcome").map((r) => [r.outcome, r.n]));
  const p = result.problems;
  const table = [
    ["events generated (creates, updates, disables, deletes)", `${ops.length} (${Number(args.creates)}, ${Number(args.updates)}, ${Number(args.disables)}, ${Number(args.deletes)})`, ""],
    ["events sent (with duplicate deliveries)", stats.sent, ""],
    ["accepted (202)", stats.accepted, ""],
    ["duplicates ignored (200 duplicate)", stats.duplicates, ""],
    ["stale ignored (an older change after a newer one)", outcomes.stale ?? 0, ""],
    ["CSV rows imported", Number(args.csvRows), ""],
    ["remote records", result.remoteRecords, ""],
    ["mismatches", p.mismatches.length + p.excludedPresent.length, "must be 0"],
    ["remote duplicates", p.remoteDuplicates.length, "must be 0"],
    ["lost events (changes not in the directory)", p.lostChanges.length, "must be 0"],
    ["lost after events (made, never delivered verified)", p.lostAfterEvents.length, "must be 0"],
    ["after event ids not stable", p.unstableEventIds.length, "must be 0"],
    ["failed links", p.failedLinks.length, "must be 0"],
    ["5xx answers from the hub", stats.hub5xx, "must be 0"],
    ["after events made / deliveries received", `${result.afterEventsMade} / ${result.afterDeliveries}`, ""],
    ["429 waited out, connection errors during the restart", `${stats.waitedOut429}, ${stats.connectionErrors}`, ""],
    ["sending time, restart time", `${sendSeconds.toFixed(1)} s, ${(restarted / 1000).toFixed(1)} s`, ""],
    ["before any manual run: converged by itself (the cron only) after the last event", selfBad ? `not in ${selfSeconds.toFixed(1)} s` : `${selfSeconds.toFixed(1)} s`, "must converge"],
    ["before any manual run: missing at the emulator, stale there, lost events, failed links", `${selfResult.problems.mismatches.filter((m) => m.why).length}, ${selfResult.problems.mismatches.filter((m) => !m.why).length}, ${selfResult.problems.lostChanges.length}, ${selfResult.problems.failedLinks.length}`, "must be 0"],
    ["time to converge (after the last event: runs and check)", `${convergeSeconds.toFixed(1)} s`, ""],
    ["whole soak", `${((Date.now() - startedAt) / 1000).toFixed(1)} s`, ""],
  ];
  console.log(`\n| measure | figure | |\n|---|---|---|\n${table.map((r) => `| ${r.join(" | ")} |`).join("\n")}\n`);
  console.log(JSON.stringify({ runs }, null, 1));
  const bad = p.mismatches.length + p.excludedPresent.length + p.remoteDuplicates.length + p.lostChanges.length + p.lostAfterEvents.length + p.unstableEventIds.length + p.failedLinks.length + stats.hub5xx + selfBad;
  if (bad) {
    console.log("Problems (the first 5 of each):");
    for (const [k, list] of Object.entries(p)) if (list.length) console.log(k, JSON.stringify(list.slice(0, 5)));
  }
  exitCode = bad ? 1 : 0;
} finally {
  await hub.stop();
  await emulators.stop();
}
process.exit(exitCode);
