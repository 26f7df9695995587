// Before the browser tests: Debian's Chromium at /usr/bin/chromium (or CHROMIUM_PATH).
// Playwright never downloads a browser here; this installs Debian's package when it is
// missing, as root or through sudo.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(path)) {
  console.log(`usersync: ${path} is missing; installing Debian's chromium package.`);
  const root = process.getuid?.() === 0;
  const run = (args) => spawnSync(root ? args[0] : "sudo", root ? args.slice(1) : args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  let res = run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"]);
  if (res.status !== 0) {
    run(["apt-get", "update"]);
    res = run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"]);
  }
  if (res.status !== 0 || !existsSync(path)) {
    console.error("usersync: could not install chromium; install it with `apt-get install chromium` or set CHROMIUM_PATH.");
    process.exit(1);
  }
}
