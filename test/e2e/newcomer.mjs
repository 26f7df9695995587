// The newcomer's first hour, as CI runs it (`npm run test:newcomer`): a fresh clone of
// this checkout, `npm start` in the background, then every command that `npm start`
// prints as a next step, run as printed, until a contact is at the emulator and its
// record URL answers 200. Then the same again with PORT and EMULATOR_PORT set, after
// that first run on the default ports. Everything started is stopped at the end.
import { execSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const clone = mkdtempSync(join(tmpdir(), "usersync-newcomer-"));
const results = [];

function fail(message) {
  throw new Error(message);
}

/** Starts `npm start` in the clone; resolves with the printed "Next" commands once it is up. */
function start(env) {
  const child = spawn("npm", ["start"], { cwd: clone, env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no next steps within 5 minutes:\n${out.slice(-3000)}`)), 300_000);
    const onData = (chunk) => {
      out += chunk;
      const next = out.indexOf("Next, in another terminal:");
      if (next >= 0 && /Stop with Ctrl-C\./.test(out.slice(next))) {
        clearTimeout(timer);
        const commands = out
          .slice(next)
          .split("\n")
          .map((l) => l.replace(/\s+# .*$/, "").trim())
          .filter((l) => l.startsWith("npm run ") || l.startsWith("curl "));
        resolve(commands);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`npm start exited (${code}) before it was ready:\n${out.slice(-3000)}`)));
  });
  return { child, ready, output: () => out };
}

function stop(child) {
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // already gone
  }
  return new Promise((r) => setTimeout(r, 3000));
}

/** Runs one printed command in the clone, as a person would paste it; answers its output. */
function runPrinted(command, env) {
  const started = Date.now();
  const output = execSync(command, { cwd: clone, env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000, shell: "/bin/bash" });
  console.log(`  $ ${command.length > 110 ? `${command.slice(0, 107)}…` : command}   (${Date.now() - started} ms)`);
  return output;
}

async function walkThrough(label, env) {
  console.log(`\n${label}: npm start${env.PORT ? ` with PORT=${env.PORT} EMULATOR_PORT=${env.EMULATOR_PORT}` : ""}`);
  const startedAt = Date.now();
  const hub = start(env);
  try {
    const commands = await hub.ready;
    console.log(`  up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; ${commands.length} printed commands`);
    if (!commands.some((c) => c === "npm run demo:connect")) fail("the printed next steps do not include npm run demo:connect");
    let contactUrl = null;
    for (const command of commands) {
      const output = runPrinted(command, {});
      if (command === "npm run demo:connect") {
        const line = /^\s+Ada@example\.com\s+(\S+)\s+\((\d+)\)$/m.exec(output);
        if (!line) fail(`demo:connect showed no contact for Ada:\n${output}`);
        contactUrl = line[1];
      }
      if (command.startsWith("curl ") && command.includes("/v1/directory/users/u_ada") && contactUrl) {
        // The link of the integration just connected (an earlier demo one may be listed too, deactivated).
        const user = JSON.parse(output);
        if (!user.links?.some((l) => l.provider === "zoho-crm" && l.status === "synced" && l.remoteUrl === contactUrl)) fail(`Ada has no synced link to ${contactUrl}: ${output}`);
      }
    }
    if (!contactUrl) fail("no contact URL was shown");
    const port = env.EMULATOR_PORT ?? "8788";
    if (!contactUrl.startsWith(`http://127.0.0.1:${port}/`)) fail(`the record URL ${contactUrl} is not on the emulator's port ${port}`);
    const record = await fetch(contactUrl);
    if (record.status !== 200) fail(`the record URL answered ${record.status}`);
    const seconds = (Date.now() - startedAt) / 1000;
    console.log(`  contact at the emulator, record URL answered 200, ${seconds.toFixed(1)} s after npm start`);
    results.push({ label, ok: true, seconds });
  } catch (err) {
    console.error(`  FAILED: ${err.message}`);
    results.push({ label, ok: false });
  } finally {
    await stop(hub.child);
  }
}

try {
  execSync(`git clone -q "${repo}" "${clone}"`);
  // A clone has only what is committed: take the working tree's uncommitted changes too
  // when run by hand; CI runs on a clean clone, where there are none.
  execSync(`git -C "${repo}" diff HEAD --binary | git -C "${clone}" apply --allow-empty`, { shell: "/bin/bash" });
  await walkThrough("first run", {});
  await walkThrough("second run", { PORT: "9100", EMULATOR_PORT: "9101" });
} finally {
  rmSync(clone, { recursive: true, force: true });
}
const passed = results.filter((r) => r.ok).length;
console.log(`\nnewcomer: ${passed} passed, ${results.length - passed} failed`);
process.exitCode = passed === 2 && results.length === 2 ? 0 : 1;
