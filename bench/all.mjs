// `npm run bench`: runs every benchmark script one after another (each is still runnable
// alone: npm run bench:floor, bench:ingest, bench:sync, bench:reconcile, bench:imports),
// then rewrites docs/benchmarks.md from their results: the machine, each command, each
// figure beside its target and the anchor it is compared with, and the previous run's
// figure (kept in docs/benchmarks.json). Run it with nothing else on the machine: the
// scripts share the two cores with workerd.
// Usage: npm run bench [-- --only floor,ingest] [-- --report-only: rewrite the page from
// docs/benchmarks.json without running anything]
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { root } from "./lib.mjs";

const { values: args } = parseArgs({ options: { only: { type: "string" }, "report-only": { type: "boolean", default: false } } });

const SCRIPTS = [
  // The floor first and the hub's ingest right after it: the ingest targets are relative to it.
  { key: "floor", script: "bench:floor", args: [] },
  { key: "ingest", script: "bench:ingest", args: [] },
  { key: "sync", script: "bench:sync", args: [] },
  { key: "reconcile", script: "bench:reconcile", args: [] },
  { key: "imports", script: "bench:imports", args: ["--rows", "100000", "--pickup", "500000", "--repeat", "3"] },
];
const only = args.only ? new Set(args.only.split(",")) : null;
const jsonPath = join(root, "docs", "benchmarks.json");
const stored = existsSync(jsonPath) ? JSON.parse(readFileSync(jsonPath, "utf8")) : { results: {}, figures: {} };
// The figures of the run before this one: the stored ones, unless only the page is rewritten.
const previousFigures = args["report-only"] ? (stored.previousFigures ?? {}) : (stored.figures ?? {});

const scratch = mkdtempSync(join(tmpdir(), "usersync-bench-all-"));
const results = { ...stored.results };
const ran = {};
const started = Date.now();
for (const s of SCRIPTS) {
  if (args["report-only"] || (only && !only.has(s.key))) continue;
  const out = join(scratch, `${s.key}.json`);
  const t0 = Date.now();
  console.error(`bench: ${s.script} ${s.args.join(" ")}`);
  const r = spawnSync("npm", ["run", "--silent", s.script, "--", ...s.args], { cwd: root, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, BENCH_RESULT: out } });
  if (r.status !== 0 || !existsSync(out)) throw new Error(`${s.script} failed (exit ${r.status})`);
  results[s.key] = { ...JSON.parse(readFileSync(out, "utf8")), at: new Date().toISOString(), seconds: Math.round((Date.now() - t0) / 1000) };
  ran[s.key] = true;
}
rmSync(scratch, { recursive: true, force: true });

const git = (...a) => spawnSync("git", a, { cwd: root, encoding: "utf8" }).stdout.trim();
const version = (pkg) => JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;
const machine = {
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? "unknown"}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  wrangler: version("wrangler"),
  workerd: version("workerd"),
  commit: args["report-only"] ? stored.machine?.commit : git("rev-parse", "--short", "HEAD") + (git("status", "--porcelain", "--", "src", "bench", "wrangler.toml") ? " (with uncommitted changes)" : ""),
};

// ---- The figures, each beside its target and its anchor ----------------------------------

const calls = (n) => (typeof n === "number" ? n.toFixed(4) : String(n));
const fmt = (n, digits = 1) => (typeof n === "number" && Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits }) : String(n));
const R = results;
const figures = [];
function figure(id, source, name, value, text, target, met, anchor) {
  if (!R[source]) return;
  figures.push({ id, source, name, value, text, target, met, anchor, command: R[source].command ?? `npm run ${source}`, fresh: !!ran[source] || args["report-only"], previous: previousFigures[id]?.text ?? "—" });
}

if (R.floor && R.ingest) {
  const floor = R.floor.results.ingest;
  const hook = R.ingest.webhook;
  const share = hook.rps / floor.rps;
  figure("ingest.throughput", "ingest", "webhook ingest throughput", share, `${fmt(hook.rps)} req/s = ${fmt(share * 100, 0)} % of the floor`, "≥ 75 % of the floor's `/ingest`", share >= 0.75, `floor \`/ingest\` ${fmt(floor.rps)} req/s (\`npm run bench:floor\`, same run)`);
  const ratio = hook.p99 / floor.p99;
  figure("ingest.p99", "ingest", "webhook ingest p99 at concurrency 16", ratio, `${fmt(hook.p99)} ms = ${fmt(ratio, 2)} × the floor's`, "≤ 1.3 × the floor's `/ingest` p99", ratio <= 1.3, `floor \`/ingest\` p99 ${fmt(floor.p99)} ms (same run)`);
  figure("ingest.stored", "ingest", "webhooks stored / sent", R.ingest.webhookEventsStored, `${fmt(R.ingest.webhookEventsStored, 0)} / ${fmt(hook.requests, 0)}`, "all", R.ingest.webhookEventsStored === hook.requests && hook.failures === 0, "every delivery answered 202");
}
if (R.sync) {
  const { initialSync: a, byWebhook: b, latency: c } = R.sync;
  figure("sync.initial", "sync", `initial sync of ${fmt(a.people, 0)}: Zoho calls a person`, a.callsPerSyncedPerson, `${calls(a.callsPerSyncedPerson)} (${a.zohoApiCalls} calls, ${fmt(a.wallSeconds)} s, ${fmt(a.contactsInEmulator, 0)} contacts)`, "≤ 0.011", a.callsPerSyncedPerson <= 0.011 && a.contactsInEmulator === a.people, "upserts of 100 alone: 0.010");
  figure("sync.webhook", "sync", `${fmt(b.people, 0)} people by webhook at the ingest limit: Zoho calls a person`, b.callsPerSyncedPerson, `${calls(b.callsPerSyncedPerson)} (${b.zohoApiCalls} calls, ${fmt(b.contactsInEmulator, 0)} contacts)`, "≤ 0.02", b.callsPerSyncedPerson <= 0.02 && b.contactsInEmulator === b.people, "one lookup and one upsert a batch of 100: 0.020");
  figure("sync.latency", "sync", `event → record at ${c.ratePerSecond} a second, ${c.events} events`, c.p95Ms, `p95 ${fmt(c.p95Ms, 0)} ms (p50 ${fmt(c.p50Ms, 0)}, max ${fmt(c.maxMs, 0)})`, "p95 < 1,000 ms", c.p95Ms < 1000, "the queue's batch window alone was 1,000 ms");
}
if (R.reconcile) {
  const [first, steady] = R.reconcile.runs;
  const perCall = steady.listed / Math.max(1, steady.calls.coql);
  figure("reconcile.time", "reconcile", `reconciliation of ${fmt(R.reconcile.people, 0)}, steady state`, steady.seconds, `${fmt(steady.seconds)} s (first run ${fmt(first.seconds)} s)`, "< 120 s", steady.status === "done" && steady.seconds < 120, "linear: half the people take half the time");
  figure("reconcile.calls", "reconcile", "reconciliation: records listed a Zoho call", perCall, `${fmt(perCall, 0)} (${steady.calls.coql} COQL calls, ${steady.calls.writes} writes)`, "≥ 200", perCall >= 200, "COQL's 2,000 rows a call");
}
if (R.imports) {
  const { preview, apply, pickup, upload } = R.imports;
  figure("imports.preview", "imports", "preview of 100,000 rows", preview.seconds, `${fmt(preview.seconds)} s`, "< 20 s", preview.seconds < 20, "—");
  figure("imports.apply", "imports", "apply of 100,000 rows", apply.seconds, `${fmt(apply.seconds)} s`, "< 60 s", apply.seconds < 60, "—");
  const small = Math.max(upload.peakHeapMiB, preview.peakHeapMiB, apply.peakHeapMiB);
  const peak = Math.max(pickup.plan.peakHeapMiB, pickup.run.peakHeapMiB);
  figure("imports.memory", "imports", `scheduled pickup of ${fmt(pickup.files?.[0]?.rows ?? NaN, 0)} rows: peak JS heap (median of runs)`, peak, `${fmt(peak)} MiB (plan ${fmt(pickup.plan.seconds ?? NaN)} s, run ${fmt(pickup.run.seconds ?? NaN)} s)`, "no more than 100,000 rows need, and < 128 MiB", peak <= small && peak < 128, `100,000 rows uploaded, previewed and applied: ${fmt(small)} MiB (same runs)`);
  const { refused } = R.imports;
  if (refused) figure("imports.malformed", "imports", "a 45 MB file with an unclosed quote on row 2: peak JS heap", refused.peakHeapMiB, `${refused.status}, ${fmt(refused.peakHeapMiB)} MiB in ${fmt(refused.seconds)} s`, "422, < 128 MiB", refused.status === 422 && refused.peakHeapMiB < 128, "—");
}

const stale = figures.filter((f) => !f.fresh).map((f) => f.source);
const md = `# Benchmarks

Written by \`npm run bench\` (\`bench/all.mjs\`), which runs every script under \`bench/\` one
after another and rewrites this page from their results; don't edit it by hand. What was
changed to reach these figures, the earlier measurements and the floors behind them are
in [benchmarks-history.md](benchmarks-history.md). Each script runs alone too
(\`npm run bench:floor\`, \`bench:ingest\`, \`bench:sync\`, \`bench:reconcile\`,
\`bench:imports\`): each starts its own \`wrangler dev\` on a fresh local state and the
emulators, talks to them over 127.0.0.1 only and stops by itself.

## The machine

- ${machine.cpus}, ${machine.memoryGiB} GiB; Node ${machine.node}; wrangler ${machine.wrangler}, workerd ${machine.workerd}
- commit ${machine.commit}; ${(args["report-only"] ? stored.finishedAt : new Date().toISOString()).slice(0, 16).replace("T", " ")} UTC; \`npm run bench\` took ${fmt(args["report-only"] ? stored.minutes : (Date.now() - started) / 60000)} minutes${stale.length ? ` (figures of ${[...new Set(stale)].join(", ")} are from an earlier run: \`--only\` left them out)` : ""}
- The load generator shares the two cores with \`workerd\`, which runs the Worker, the local D1, the queue broker and the rate limiter on one thread: absolute figures are modest, so the ingest targets are relative to a Worker with no code of ours (\`bench:floor\`) measured in the same run.

## Figures and targets

| figure | measured | target | anchor | previous run | met |
|---|---|---|---|---|---|
${figures.map((f) => `| ${f.name} | ${f.text} | ${f.target} | ${f.anchor} | ${f.previous} | ${f.met ? "yes" : "**no**"} |`).join("\n")}

## Commands

${SCRIPTS.map((s) => s.key).filter((s) => R[s]).map((s) => `- ${s}: \`${R[s].command}\` (${fmt(R[s].seconds ?? NaN, 0)} s, ${R[s].at?.slice(0, 16).replace("T", " ") ?? "?"} UTC)`).join("\n")}
${R.floor ? `\n## The floor, every route (requests/s, p50, p99 in ms)\n\n| route | figures |\n|---|---|\n${Object.entries(R.floor.results).map(([k, v]) => `| \`/${k}\` | ${fmt(v.rps)}, ${fmt(v.p50)}, ${fmt(v.p99)} |`).join("\n")}\n` : ""}`;

writeFileSync(join(root, "docs", "benchmarks.md"), md);
const minutes = args["report-only"] ? stored.minutes : (Date.now() - started) / 60000;
const finishedAt = args["report-only"] ? stored.finishedAt : new Date().toISOString();
writeFileSync(jsonPath, JSON.stringify({ machine, finishedAt, minutes, results, figures: Object.fromEntries(figures.map((f) => [f.id, { text: f.text, met: f.met }])), previousFigures }, null, 1) + "\n");
const missed = figures.filter((f) => !f.met);
console.log(`\n${md}`);
console.log(missed.length ? `bench: ${missed.length} target(s) not met: ${missed.map((f) => f.id).join(", ")}` : "bench: every target met");
