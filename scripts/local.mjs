// What `npm start` and the demo scripts share: the ports, the local files and the URLs
// that follow from them. Node built-ins only, so it runs before Node 22 is on the PATH.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const devVarsPath = join(root, ".dev.vars");
/** The demo tenant's credentials and the URLs of the last `npm start` (the browser tests keep their own). */
export const demoPath = process.env.USERSYNC_DEMO_FILE ?? join(root, ".wrangler", "usersync-demo.json");

/** The saved demo tenant, or an explanation of how to get one. */
export function readDemo() {
  if (!existsSync(demoPath)) {
    console.error("usersync: no demo tenant yet. Run `npm start` first (it creates one and keeps it in .wrangler/usersync-demo.json).");
    process.exit(1);
  }
  const demo = JSON.parse(readFileSync(demoPath, "utf8"));
  // PORT and EMULATOR_PORT win over the saved URLs, for a hub started on other ports.
  return {
    ...demo,
    hubUrl: process.env.PORT ? `http://127.0.0.1:${process.env.PORT}` : (demo.hubUrl ?? "http://127.0.0.1:8787"),
    emulatorUrl: process.env.EMULATOR_PORT ? `http://127.0.0.1:${process.env.EMULATOR_PORT}` : (demo.emulatorUrl ?? "http://127.0.0.1:8788"),
  };
}

/**
 * A .dev.vars line that wrangler's dotenv parser reads back as exactly `value`: single
 * quotes keep backslashes, double quotes and JSON as they are.
 */
export function devVarLine(name, value) {
  if (/['\n\r]/.test(value)) throw new Error(`${name}: a .dev.vars value cannot hold a single quote or a line break`);
  return `${name}='${value}'`;
}
