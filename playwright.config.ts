import { defineConfig } from "@playwright/test";

/**
 * Browser tests: Debian's Chromium (scripts/ensure-browser.mjs installs it; Playwright
 * downloads nothing) against `npm start` on its own ports, with the emulators. The global
 * setup starts the hub and the demo tenant; screenshots go to test-results/screens/.
 */
export default defineConfig({
  testDir: "test/browser",
  globalSetup: "./test/browser/global-setup.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  outputDir: "test-results/playwright",
  use: {
    baseURL: `http://127.0.0.1:${process.env.BROWSER_HUB_PORT ?? 9400}`,
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
    viewport: { width: 1280, height: 900 },
    trace: "retain-on-failure",
    actionTimeout: 20_000,
    navigationTimeout: 30_000,
  },
});
