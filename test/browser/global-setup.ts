import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Starts the hub as a newcomer would (`npm start`: .dev.vars, migrations, the hub and the
 * emulators, the demo tenant with its sign-in page) on the browser tests' own ports, and
 * stops it when they end. The tests read the demo tenant from .wrangler/usersync-demo.json.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const port = process.env.BROWSER_HUB_PORT ?? "9400";
  const emulatorPort = process.env.BROWSER_EMULATOR_PORT ?? "9401";
  const root = fileURLToPath(new URL("../..", import.meta.url));
  // A demo tenant of their own, made anew each run: the developer's is left alone.
  const demoFile = join(root, ".wrangler", "usersync-browser-demo.json");
  rmSync(demoFile, { force: true });
  const child: ChildProcess = spawn(process.execPath, [join(root, "scripts", "start.mjs")], {
    cwd: root,
    env: { ...process.env, PORT: port, EMULATOR_PORT: emulatorPort, USERSYNC_DEMO_FILE: demoFile },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up in 180 s:\n${output.slice(-4000)}`)), 180_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("usersync is running.")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}):\n${output.slice(-4000)}`));
    });
  });
  child.removeAllListeners("exit");
  process.env.USERSYNC_DEMO = readFileSync(demoFile, "utf8");
  return async () => {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // already gone
    }
  };
}
