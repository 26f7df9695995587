// `npm start`: the hub on this machine with everything it needs — local secrets in
// .dev.vars, D1 migrations applied, `wrangler dev`, and a demo tenant whose API key is
// printed with what to do next. Uses only Node built-ins so it runs before Node 22 is
// first on the PATH; the wrangler it spawns runs on the project's Node 22.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { emulatorSettings } from "../emulators/settings.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const port = Number(process.env.PORT ?? 8787);
const emulatorPort = Number(process.env.EMULATOR_PORT ?? 8788);
const hubUrl = `http://127.0.0.1:${port}`;
const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
const devVarsPath = join(root, ".dev.vars");
const demoPath = join(root, ".wrangler", "usersync-demo.json");

/** Writes .dev.vars once; a file from an older run gets the settings it lacks added. */
function ensureDevVars() {
  const existing = existsSync(devVarsPath) ? readDevVars() : {};
  const wanted = {
    PUBLIC_URL: `http://localhost:${port}`,
    OPERATOR_TOKEN: `op_${randomBytes(24).toString("base64url")}`,
    ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    SESSION_SECRET: randomBytes(32).toString("base64url"),
    ...emulatorSettings(emulatorUrl),
  };
  const missing = Object.entries(wanted).filter(([k]) => !(k in existing));
  if (!missing.length) return;
  const header = existsSync(devVarsPath) ? "" : "# Local settings and secrets written by `npm start`; never commit this file.\n";
  const text = missing.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("\n");
  writeFileSync(devVarsPath, `${existsSync(devVarsPath) ? readFileSync(devVarsPath, "utf8").replace(/\n?$/, "\n") : header}${text}\n`, { mode: 0o600 });
  console.log(`usersync: wrote ${missing.map(([k]) => k).join(", ")} to .dev.vars`);
}

function readDevVars() {
  const vars = {};
  for (const line of readFileSync(devVarsPath, "utf8").split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]] = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2];
  }
  return vars;
}

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, CI: "true" } });
  if (result.status !== 0) {
    console.error(`usersync: \`${[cmd, ...args].join(" ")}\` failed`);
    process.exit(result.status ?? 1);
  }
}

async function waitFor(url, child, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited before ${url} answered`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000}s`);
}

async function demoTenant(operatorToken) {
  if (existsSync(demoPath)) {
    const saved = JSON.parse(readFileSync(demoPath, "utf8"));
    const res = await fetch(`${hubUrl}/v1/tenant`, { headers: { authorization: `Bearer ${saved.apiKey}` } });
    if (res.ok) return { ...saved, reused: true };
  }
  const res = await fetch(`${hubUrl}/v1/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Demo organisation" }),
  });
  if (res.status !== 201) throw new Error(`creating the demo tenant failed: ${res.status} ${await res.text()}`);
  const body = await res.json();
  const demo = { tenantId: body.tenant.id, apiKey: body.apiKey, webhookSecret: body.webhookSecret, ssoSecret: body.ssoSecret };
  mkdirSync(dirname(demoPath), { recursive: true });
  writeFileSync(demoPath, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return { ...demo, reused: false };
}

function printNextSteps(demo) {
  const lines = [
    "",
    "usersync is running.",
    `  hub             ${hubUrl}   (health: ${hubUrl}/healthz, API document: ${hubUrl}/openapi.json)`,
    `  emulators       ${emulatorUrl}   (Zoho and Microsoft stand-ins; state: ${emulatorUrl}/_emulator/state)`,
    `  demo tenant     ${demo.tenantId}${demo.reused ? " (kept from an earlier run)" : ""}`,
    `  API key         ${demo.apiKey}`,
    `  webhook secret  ${demo.webhookSecret}`,
    "",
    "Next:",
    `  curl -s ${hubUrl}/v1/tenant -H 'authorization: Bearer ${demo.apiKey}'`,
    "  npm run demo:webhook        # sends a signed user.created for Ada Lovelace, as a host app would",
    `  curl -s ${hubUrl}/v1/directory/users/u_ada -H 'authorization: Bearer ${demo.apiKey}'`,
    `  curl -s '${hubUrl}/__scheduled?cron=*+*+*+*+*'   # one cron tick: starts the resyncs and reconciliations that are due`,
    "  Read the README for the HTTP contract and for pointing the hub at real Zoho and Microsoft accounts.",
    "  (The demo tenant's credentials are saved in .wrangler/usersync-demo.json.) Stop with Ctrl-C.",
    "",
  ];
  console.log(lines.join("\n"));
}

ensureDevVars();
run(bin("wrangler"), ["d1", "migrations", "apply", "DB", "--local"]);
const devFlags = ["--ip", "127.0.0.1", "--show-interactive-dev-session=false"];
const emulators = spawn(bin("wrangler"), ["dev", "-c", "emulators/wrangler.toml", "--port", String(emulatorPort), "--inspector-port", "9230", ...devFlags], {
  cwd: root,
  stdio: "inherit",
});
// --test-scheduled: wrangler dev fires no cron by itself; /__scheduled runs a tick on demand.
const hub = spawn(bin("wrangler"), ["dev", "--port", String(port), "--inspector-port", "9229", "--test-scheduled", ...devFlags], { cwd: root, stdio: "inherit" });
const children = [hub, emulators];
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => children.forEach((c) => c.kill(signal)));
for (const c of children) {
  c.on("exit", (code) => {
    children.forEach((other) => other !== c && other.kill("SIGTERM"));
    process.exit(code ?? 0);
  });
}

try {
  await waitFor(`${emulatorUrl}/_emulator/state`, emulators);
  await waitFor(`${hubUrl}/healthz`, hub);
  printNextSteps(await demoTenant(readDevVars().OPERATOR_TOKEN));
} catch (err) {
  console.error(`usersync: ${err.message}`);
  children.forEach((c) => c.kill("SIGTERM"));
  process.exitCode = 1;
}
