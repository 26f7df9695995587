// Reconciliation benchmark (issue #7) against `wrangler dev` and the emulators over loopback:
// N linked directory people (default 100,000) against an emulated Zoho CRM holding their
// N contacts, with a little drift: some contacts edited by hand, some deleted.
// Measures wall time per run, Zoho calls (listing vs writes), and shows the plan of the
// range query that reads a page's links (D1 rows read per person). Two runs: the first after the links were written without a
// payload hash (every record compared field by field), the second the steady state.
// Usage: npm run bench:reconcile [-- --people 100000 --edited 100 --deleted 20]
import { parseArgs } from "node:util";
import { emulatorSettings } from "../emulators/settings.mjs";
import { connectedCrm, report, round, runToEnd, startEmulators, startHub } from "./lib.mjs";

const { values: args } = parseArgs({
  options: { people: { type: "string", default: "100000" }, edited: { type: "string", default: "100" }, deleted: { type: "string", default: "20" } },
});
const people = Number(args.people);
const edited = Number(args.edited);
const deleted = Number(args.deleted);
const remoteId = (i) => `57257680${String(i).padStart(11, "0")}`;
const pad = (i) => String(i).padStart(6, "0");

const emulators = await startEmulators({ port: 8798 });
const hub = await startHub({ port: 8797, vars: { PUBLIC_URL: "http://127.0.0.1:8797", ...emulatorSettings(emulators.url) } });
try {
  const emu = (path, init = {}) => fetch(`${emulators.url}${path}`, { ...init, headers: { "content-type": "application/json", ...init.headers } });
  const { tenant, api, integration } = await connectedCrm(hub, emulators);

  // The directory and the links, written straight into the hub's local D1.
  const seedStarted = Date.now();
  const now = Date.now();
  hub.sql(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${people - 1})
    INSERT INTO directory_users (tenant_id, id, email, email_lower, first_name, last_name, status, profile, version, source_updated_at, needs_push, created_at, updated_at)
    SELECT '${tenant.id}', printf('u_%06d', i), printf('person%06d@bench.example', i), printf('person%06d@bench.example', i), 'Person', printf('Number %d', i), 'active',
           printf('{"department":"Dept %d"}', i % 9), 1, ${now}, 0, ${now}, ${now} FROM n`);
  hub.sql(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${people - 1})
    INSERT INTO links (tenant_id, integration_id, user_id, remote_id, remote_url, status, payload_hash, pushed_version, last_synced_at, updated_at)
    SELECT '${tenant.id}', '${integration.id}', printf('u_%06d', i), printf('57257680%011d', i), NULL, 'synced', NULL, 1, ${now}, ${now} FROM n`);
  // Their contacts in the emulator, as the hub would have pushed them.
  for (let start = 0; start < people; start += 5000) {
    const records = [];
    for (let i = start; i < Math.min(people, start + 5000); i++) {
      records.push({ id: remoteId(i), Email: `person${pad(i)}@bench.example`, First_Name: "Person", Last_Name: `Number ${i}`, Phone: null, Mobile: null, Department: `Dept ${i % 9}`, Title: null });
    }
    const r = await emu("/_emulator/zoho/us/crm/Contacts", { method: "POST", body: JSON.stringify({ records }) });
    if (r.status !== 201) throw new Error(`emulator seeding failed: ${r.status}`);
  }
  // Drift: contacts edited by hand and deleted in Zoho, spread over the id range.
  const step = Math.floor(people / (edited + deleted + 1));
  for (let k = 0; k < edited; k++) await emu(`/_emulator/zoho/us/crm/Contacts/${remoteId((k + 1) * step)}`, { method: "PATCH", body: JSON.stringify({ Department: "Edited by hand" }) });
  for (let k = 0; k < deleted; k++) await emu(`/_emulator/zoho/us/crm/Contacts/${remoteId((edited + k + 1) * step)}`, { method: "DELETE" });
  const seedSeconds = (Date.now() - seedStarted) / 1000;

  const crmCalls = async () => {
    const { calls } = await (await emu("/_emulator/calls")).json();
    const out = { coql: 0, writes: 0, other: 0 };
    for (const [k, v] of Object.entries(calls)) {
      if (!/^\w+ \/zoho\/\w+\/api\//.test(k)) continue;
      if (k.endsWith("/coql")) out.coql += v;
      else if (/^(POST|PUT|DELETE) /.test(k)) out.writes += v;
      else out.other += v;
    }
    return out;
  };

  async function reconcile(label) {
    await emu("/_emulator/calls", { method: "DELETE" });
    const { run, seconds } = await runToEnd(api, integration.id, "reconcile");
    const c = await crmCalls();
    return { label, status: run.status, seconds: round(seconds), counts: run.counts, calls: c, listed: people - deleted };
  }

  const first = await reconcile("first (links without a payload hash)");
  const second = await reconcile("steady state");

  // D1 rows read per person: local `wrangler d1 execute` reports no rows_read, so the plan
  // of a page's range query is shown instead: an index range over exactly the page's links.
  const plan = hub
    .sql(`EXPLAIN QUERY PLAN SELECT * FROM links WHERE integration_id = 'x' AND remote_id IS NOT NULL AND remote_id > '1' AND remote_id <= '2'`)[0]
    .results.map((r) => r.detail);
  const contacts = (await (await emu("/_emulator/zoho/us/crm/Contacts?email=person000000@bench.example")).json()).count;

  report({ command: `npm run bench:reconcile -- --people ${people} --edited ${edited} --deleted ${deleted}`, people, edited, deleted, seedSeconds: round(seedSeconds), runs: [first, second], rangeQueryPlan: plan, sanity: { person0Contacts: contacts } });
  for (const r of [first, second]) {
    const perCall = round(r.listed / Math.max(1, r.calls.coql));
    console.log(`${r.label}: ${r.status} in ${r.seconds} s; ${r.calls.coql} COQL calls (${perCall} records listed per call), ${r.calls.writes} write calls; counts ${JSON.stringify(r.counts)}`);
  }
  console.log(`a page's range query: ${plan.join("; ")}`);
} finally {
  await hub.stop();
  await emulators.stop();
}
