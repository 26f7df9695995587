// Shared by the bench/ scripts: a throwaway `wrangler dev` and latency statistics.
// Benchmarks talk only to 127.0.0.1, are bounded in requests and time, and stop by themselves.
import { spawn, spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Offline: no Request.cf fetch from the internet by the wrangler dev servers started here.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(root, "node_modules", ".bin", "wrangler");

/** Starts the provider emulators on `port`; returns their URL and a stop(). `logLevel: "none"` hides the faults they inject on purpose. */
export async function startEmulators({ port = 8798, logLevel = "error" } = {}) {
  const child = spawn(wrangler, ["dev", "-c", "emulators/wrangler.toml", "--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(port + 1000), "--show-interactive-dev-session=false", "--log-level", logLevel], {
    cwd: root,
    env: { ...process.env, CI: "true" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/_emulator/state`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("the emulators did not start");
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
    },
  };
}

/** Starts the hub with fresh local state on `port`; returns its URL, secrets and a stop(). */
export async function startHub({ port = 8797, vars = {}, config = "wrangler.toml", inspectorPort = 9329, extraArgs = [] } = {}) {
  const state = mkdtempSync(join(tmpdir(), "usersync-bench-"));
  const secrets = {
    OPERATOR_TOKEN: `op_${randomBytes(16).toString("hex")}`,
    ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    SESSION_SECRET: randomBytes(32).toString("base64url"),
    ...vars,
  };
  const env = { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" };
  const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state, "-c", config], {
    cwd: root,
    env,
    encoding: "utf8",
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
  const varArgs = Object.entries(secrets).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const url = `http://127.0.0.1:${port}`;
  const spawnHub = async () => {
    const started = spawn(
      wrangler,
      ["dev", "-c", config, "--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(inspectorPort), "--persist-to", state, "--show-interactive-dev-session=false", "--log-level", "error", ...extraArgs, ...varArgs],
      { cwd: root, env, stdio: ["ignore", "inherit", "inherit"], detached: true },
    );
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline || started.exitCode !== null) throw new Error("wrangler dev did not start");
      await new Promise((r) => setTimeout(r, 300));
    }
    return started;
  };
  const stopChild = async (signal) => {
    const exited = child.exitCode !== null || child.signalCode !== null;
    // SIGTERM lets wrangler stop its workerd and esbuild itself; SIGKILL (a crash) goes to
    // the whole process group, since wrangler dev runs workerd as a child of its own.
    if (!exited) signal === "SIGKILL" ? process.kill(-child.pid, signal) : child.kill(signal);
    await new Promise((r) => (exited ? r() : child.once("exit", r)));
  };
  let child = await spawnHub();
  return {
    url,
    state,
    secrets,
    /** Puts a local file into this server's local R2 bucket. */
    r2Put(key, file) {
      const r = spawnSync(wrangler, ["r2", "object", "put", `usersync-files/${key}`, "--file", file, "--local", "--persist-to", state, "-c", config], { cwd: root, env, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`r2 object put failed: ${r.stderr}`);
    },
    /** Runs SQL against the local D1 of this server. */
    sql(command) {
      const r = spawnSync(wrangler, ["d1", "execute", "DB", "--local", "--persist-to", state, "-c", config, "--command", command, "--json"], {
        cwd: root,
        env,
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`d1 execute failed: ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    /** Kills `wrangler dev` without warning (SIGKILL) and starts it again on the same local state. */
    async restart() {
      await stopChild("SIGKILL");
      child = await spawnHub();
    },
    async stop() {
      await stopChild("SIGTERM");
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `makeRequest(i)` with `concurrency` loops in flight until `total` requests are done
 * (or `maxMs` passes); returns requests/s and latency percentiles in milliseconds.
 */
export async function load({ concurrency, total, maxMs = 120_000, makeRequest, expectStatus }) {
  const latencies = [];
  let next = 0;
  let failures = 0;
  const statuses = new Map();
  const started = performance.now();
  const deadline = started + maxMs;
  async function worker() {
    while (next < total && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      const res = await makeRequest(i);
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (expectStatus && !expectStatus.includes(res.status)) failures++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return {
    requests: latencies.length,
    seconds: round(seconds),
    rps: round(latencies.length / seconds),
    p50: round(pct(50)),
    p99: round(pct(99)),
    failures,
    statuses: Object.fromEntries(statuses),
  };
}

/** Standard Webhooks signature of one delivery. */
export function signWebhook(secret, id, ts, body) {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64")}`;
}

/** Sends one signed user event to the hub. */
export function postEvent(hubUrl, tenant, event, id) {
  const body = JSON.stringify(event);
  const ts = String(Math.floor(Date.now() / 1000));
  return fetch(`${hubUrl}/webhooks/${tenant.id}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": ts, "webhook-signature": signWebhook(tenant.webhookSecret, id, ts, body) },
  });
}

/** The p-th percentile of sorted numbers. */
export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * Prints a benchmark's result as JSON, and writes it to the file named by BENCH_RESULT
 * when that is set (`npm run bench` reads each script's result from there).
 */
export function report(result) {
  console.log(JSON.stringify(result, null, 2));
  if (process.env.BENCH_RESULT) writeFileSync(process.env.BENCH_RESULT, JSON.stringify(result));
}

export function round(n, digits = 1) {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * An empty emulated world, a tenant on the hub and a Zoho CRM integration connected
 * through the emulator's (auto-approved) consent. Answers the tenant, an `api(path, init)`
 * that calls the hub with its API key, and the integration.
 */
export async function connectedCrm(hub, emulators) {
  await fetch(`${emulators.url}/_emulator/reset`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ seed: false }) });
  return tenantWithCrm(hub, emulators);
}

/**
 * A new tenant with a Zoho CRM integration of `config`, connected as `loginHint` (whose
 * domain picks the data centre: `admin@acme-eu.example` signs in to the EU), once its
 * initial resync is over. Answers the tenant (with its secrets), `api` and the integration.
 */
export async function tenantWithCrm(hub, emulators, { name = "Bench", loginHint = "admin@acme.example", config } = {}) {
  const created = await (await fetch(`${hub.url}/v1/tenants`, { method: "POST", headers: { authorization: `Bearer ${hub.secrets.OPERATOR_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ name }) })).json();
  const api = (path, init = {}) =>
    fetch(`${hub.url}${path}`, { ...init, headers: { authorization: `Bearer ${created.apiKey}`, ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers } });
  const integration = await (await api("/v1/integrations", { method: "POST", body: JSON.stringify({ provider: "zoho-crm", ...(config ? { config } : {}) }) })).json();
  if (!integration.id) throw new Error(`the integration was refused: ${JSON.stringify(integration)}`);
  const { authorizeUrl } = await (await api(`/v1/integrations/${integration.id}/connect`, { method: "POST" })).json();
  const consent = new URL(authorizeUrl);
  consent.searchParams.set("auto_approve", "1");
  consent.searchParams.set("login_hint", loginHint);
  let hop = consent;
  // Zoho's multi-DC consent may redirect to another data centre's accounts server first.
  for (let i = 0; i < 5 && hop.origin !== new URL(hub.url).origin; i++) hop = new URL((await fetch(hop, { redirect: "manual" })).headers.get("location"), hop);
  const done = await fetch(`${hub.url}${hop.pathname}${hop.search}`, { redirect: "manual" });
  if (done.status !== 302) throw new Error(`connect failed: ${done.status} ${await done.text()}`);
  // Connecting starts a resync of the (empty) directory: let it finish before measuring.
  for (let open = true; open; ) {
    const { data } = await (await api(`/v1/runs?integrationId=${integration.id}&status=running`)).json();
    open = data.length > 0;
    if (open) await new Promise((r) => setTimeout(r, 200));
  }
  return { tenant: { id: created.tenant.id, webhookSecret: created.webhookSecret, eventSecret: created.eventSecret, apiKey: created.apiKey }, api, integration };
}

/** Starts a run (`resync` or `reconcile`; after the one running, if any) and polls it until it is no longer running; answers it with the wall time. */
export async function runToEnd(api, integrationId, kind, maxMs = 900_000) {
  const started = Date.now();
  let res;
  while ((res = await api(`/v1/integrations/${integrationId}/${kind}`, { method: "POST" })).status === 409 && Date.now() - started < maxMs) {
    // A run of this integration (a scheduled one) is under way: ours starts after it.
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (res.status !== 202) throw new Error(`${kind} answered ${res.status}: ${await res.text()}`);
  const { runId } = await res.json();
  let run;
  while ((run = await (await api(`/v1/runs/${runId}`)).json()).status === "running" && Date.now() - started < maxMs) await new Promise((r) => setTimeout(r, 250));
  return { run, seconds: (Date.now() - started) / 1000 };
}
