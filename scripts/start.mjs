// `npm start`: the hub on this machine with everything it needs — local secrets in
// .dev.vars, D1 migrations applied, `wrangler dev` for the hub and the provider
// emulators, a cron tick every minute as production has, and a demo tenant whose API key
// is printed with what to do next. The wrangler it spawns runs on the project's Node 22.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import dotenv from "dotenv";
import { emulatorSettings } from "../emulators/settings.mjs";
import { demoPath, devVarLine, devVarsPath, root } from "./local.mjs";

const bin = (name) => join(root, "node_modules", ".bin", name);
const port = Number(process.env.PORT ?? 8787);
const emulatorPort = Number(process.env.EMULATOR_PORT ?? 8788);
const hubUrl = `http://127.0.0.1:${port}`;
const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
/** What npm start wrote last for the settings that follow the ports (see ensureDevVars). */
const writtenPath = join(root, ".wrangler", "usersync-start.json");
/** Miniflare's fetch of Request.cf data needs the internet; offline it prints stack traces. */
const wranglerEnv = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false" };

/**
 * Writes .dev.vars. Secrets are made once and kept. Settings that follow from the ports
 * (PUBLIC_URL, the emulator hosts) are written again on every run, unless someone changed
 * them by hand since (say, to point at real Zoho), which is kept and reported.
 */
function ensureDevVars() {
  const existing = existsSync(devVarsPath) ? dotenv.parse(readFileSync(devVarsPath)) : {};
  const lastWritten = existsSync(writtenPath) ? JSON.parse(readFileSync(writtenPath, "utf8")) : null;
  const secrets = {
    OPERATOR_TOKEN: `op_${randomBytes(24).toString("base64url")}`,
    ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    SESSION_SECRET: randomBytes(32).toString("base64url"),
  };
  const derived = { PUBLIC_URL: `http://127.0.0.1:${port}`, ...emulatorSettings(emulatorUrl) };
  const values = { ...existing };
  const kept = [];
  for (const [name, value] of Object.entries(secrets)) values[name] ??= value;
  for (const [name, value] of Object.entries(derived)) {
    const editedByHand = name in existing && lastWritten && name in lastWritten && existing[name] !== lastWritten[name];
    if (editedByHand) kept.push(name);
    else values[name] = value;
  }
  const header = "# Local settings and secrets written by `npm start`; never commit this file.\n";
  writeFileSync(devVarsPath, header + Object.entries(values).map(([k, v]) => devVarLine(k, v)).join("\n") + "\n", { mode: 0o600 });
  mkdirSync(dirname(writtenPath), { recursive: true });
  writeFileSync(writtenPath, JSON.stringify(Object.fromEntries(Object.keys(derived).map((k) => [k, values[k]])), null, 2));
  if (kept.length) console.log(`usersync: kept your own ${kept.join(", ")} in .dev.vars (delete a line to have it follow the ports again)`);
  checkDevVars(values);
}

/** Reads .dev.vars back the way wrangler does and names any setting that would not work. */
function checkDevVars(wanted) {
  const parsed = dotenv.parse(readFileSync(devVarsPath));
  const problems = [];
  for (const [name, value] of Object.entries(wanted)) {
    if (parsed[name] !== value) problems.push(`${name} does not read back as written`);
  }
  if (parsed.ZOHO_DATA_CENTERS) {
    try {
      if (!Array.isArray(JSON.parse(parsed.ZOHO_DATA_CENTERS))) problems.push("ZOHO_DATA_CENTERS is not a JSON array");
    } catch {
      problems.push("ZOHO_DATA_CENTERS is not valid JSON");
    }
  }
  if (Buffer.from(parsed.ENCRYPTION_KEY ?? "", "base64").length !== 32) problems.push("ENCRYPTION_KEY is not base64 of 32 bytes");
  if (problems.length) {
    console.error(`usersync: .dev.vars has settings that would not work:\n  ${problems.join("\n  ")}\nFix or delete those lines and run npm start again.`);
    process.exit(1);
  }
}

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...wranglerEnv, CI: "true" } });
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
      if (res.status < 500 || res.status === 503) return res;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000}s`);
}

/** The hub's own view of its settings (`/healthz`): every problem named, or nothing. */
async function checkHealth(res) {
  const body = await res.json().catch(() => ({}));
  if (res.ok) return;
  const problems = body.settings?.problems ?? [];
  throw new Error(`the hub is not healthy: ${problems.length ? problems.join("; ") : JSON.stringify(body)}`);
}

async function demoTenant(operatorToken) {
  if (existsSync(demoPath)) {
    const saved = JSON.parse(readFileSync(demoPath, "utf8"));
    const res = await fetch(`${hubUrl}/v1/tenant`, { headers: { authorization: `Bearer ${saved.apiKey}` } });
    if (res.ok) return saveDemo({ ...saved }, true);
  }
  const res = await fetch(`${hubUrl}/v1/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${operatorToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Demo organisation" }),
  });
  if (res.status !== 201) throw new Error(`creating the demo tenant failed: ${res.status} ${await res.text()}`);
  const body = await res.json();
  return saveDemo({ tenantId: body.tenant.id, apiKey: body.apiKey, webhookSecret: body.webhookSecret, ssoSecret: body.ssoSecret, eventSecret: body.eventSecret }, false);
}

/** Keeps the demo tenant with this run's URLs, so the demo scripts find the hub as started. */
function saveDemo(demo, reused) {
  const saved = { ...demo, hubUrl, emulatorUrl };
  mkdirSync(dirname(demoPath), { recursive: true });
  writeFileSync(demoPath, JSON.stringify(saved, null, 2), { mode: 0o600 });
  return { ...saved, reused };
}

/**
 * The emulators play the host app's sign-in page: the demo tenant's `signInUrl` points
 * there, so a sensitive dashboard action that asks for a fresh sign-in works locally.
 */
async function hostAppSignIn(demo) {
  const put = await fetch(`${emulatorUrl}/_emulator/host-app`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ hubUrl, tenantId: demo.tenantId, ssoSecret: demo.ssoSecret }),
  });
  if (!put.ok) throw new Error(`registering the demo sign-in page failed: ${put.status}`);
  const patch = await fetch(`${hubUrl}/v1/tenant`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${demo.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ signInUrl: `${emulatorUrl}/host-app/sign-in` }),
  });
  if (!patch.ok) throw new Error(`setting the demo tenant's sign-in page failed: ${patch.status} ${await patch.text()}`);
}

/** Fires the every-minute cron as production does: wrangler dev fires none by itself. */
function tickEveryMinute() {
  const timer = setInterval(() => {
    fetch(`${hubUrl}/__scheduled?cron=${encodeURIComponent("* * * * *")}`).catch(() => {});
  }, 60_000);
  timer.unref();
}

function printNextSteps(demo) {
  const auth = `-H 'authorization: Bearer ${demo.apiKey}'`;
  const lines = [
    "",
    "usersync is running.",
    `  hub             ${hubUrl}   (health: ${hubUrl}/healthz, API document: ${hubUrl}/openapi.json)`,
    `  emulators       ${emulatorUrl}   (Zoho and Microsoft stand-ins; state: ${emulatorUrl}/_emulator/state)`,
    `  demo tenant     ${demo.tenantId}${demo.reused ? " (kept from an earlier run)" : ""}`,
    `  API key         ${demo.apiKey}`,
    `  webhook secret  ${demo.webhookSecret}`,
    ...(demo.eventSecret ? [`  event secret    ${demo.eventSecret}   (verifies the events the hub sends to an after handler)`] : []),
    "",
    "Next, in another terminal:",
    "  npm run demo:webhook     # 1. your app adds a person: a signed user.created for Ada Lovelace",
    "  npm run demo:connect     # 2. connect Zoho CRM (the emulator's consent, approved for you) and see Ada arrive as a contact",
    `  curl -s ${hubUrl}/v1/directory/users/u_ada ${auth}`,
    "                           # 3. Ada with her link: status, the Zoho record id and its URL",
    "  npm run demo:webhook     # 4. send it again with changes and watch them reach Zoho within seconds",
    "  npm run demo:signin      # 5. a sign-in link to the dashboard (single use, 5 minutes): integrations, users, runs",
    "                           # 6. there, enable Zoho People (its 250 employees are pulled in) and Zoho Connect",
    "                           #    (they are invited, and grouped by department and designation once they join)",
    "",
    "  The cron runs every minute, as in production; docs/api.md is the HTTP contract.",
    "  The demo tenant's credentials are saved in .wrangler/usersync-demo.json. Stop with Ctrl-C.",
    "",
  ];
  console.log(lines.join("\n"));
}

ensureDevVars();
run(bin("wrangler"), ["d1", "migrations", "apply", "DB", "--local"]);
const devFlags = ["--ip", "127.0.0.1", "--show-interactive-dev-session=false"];
const spawnOptions = { cwd: root, stdio: "inherit", env: wranglerEnv };
const emulators = spawn(bin("wrangler"), ["dev", "-c", "emulators/wrangler.toml", "--port", String(emulatorPort), "--inspector-port", String(emulatorPort + 1442), ...devFlags], spawnOptions);
// --test-scheduled exposes /__scheduled, which tickEveryMinute() calls.
const hub = spawn(bin("wrangler"), ["dev", "--port", String(port), "--inspector-port", String(port + 1442), "--test-scheduled", ...devFlags], spawnOptions);
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
  await checkHealth(await waitFor(`${hubUrl}/healthz`, hub));
  const demo = await demoTenant(dotenv.parse(readFileSync(devVarsPath)).OPERATOR_TOKEN);
  await hostAppSignIn(demo);
  tickEveryMinute();
  printNextSteps(demo);
} catch (err) {
  console.error(`usersync: ${err.message}`);
  children.forEach((c) => c.kill("SIGTERM"));
  process.exitCode = 1;
}
