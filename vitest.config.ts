import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { emulatorSettings } from "./emulators/settings.mjs";

// Tests run inside workerd with the bindings of wrangler.toml (real D1, Queues, R2);
// only the secrets, which never live in wrangler.toml, are given here.
export const TEST_SECRETS = {
  OPERATOR_TOKEN: "test-operator-token",
  ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
  SESSION_SECRET: "test-session-secret-0123456789abcdef",
};

// Miniflare fetches Request.cf data from the internet, which this offline machine and CI
// lack (four stack traces per start otherwise).
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      // Tests inject faults on purpose (5xx, dropped connections, revoked tokens) and the
      // hub logs them as it would in production: show a test's logs only when it fails,
      // so that only real failures look like failures.
      silent: "passed-only" as const,
      projects: [
        {
          // The hub: inside workerd, with the bindings of wrangler.toml (real D1, Queues, R2).
          plugins: [
            cloudflareTest(({ inject }) => ({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  ...TEST_SECRETS,
                  // Every provider setting, pointed at the emulators, so .dev.vars never leaks in.
                  PUBLIC_URL: "http://hub.test",
                  ...emulatorSettings(inject("emulatorUrl")),
                  TEST_MIGRATIONS: migrations,
                  EMULATOR_URL: inject("emulatorUrl"),
                  // Every picked-up file is planned in several steps, however small.
                  IMPORT_STEP_ROWS: "2",
                },
                // As wrangler.toml, but 3 retries instead of 8 so that the dead-letter path is
                // reached in seconds (the back-off grows as 2^attempts).
                queueConsumers: {
                  "usersync-jobs": { maxBatchSize: 100, maxBatchTimeout: 0, maxRetries: 3, deadLetterQueue: "usersync-jobs-dlq" },
                  "usersync-push-batches": { maxBatchSize: 100, maxBatchTimeout: 2, maxRetries: 3, deadLetterQueue: "usersync-jobs-dlq" },
                  "usersync-jobs-dlq": { maxBatchSize: 50, maxBatchTimeout: 1, maxRetries: 3 },
                },
              },
            })),
          ],
          test: {
            name: "hub",
            globalSetup: ["./test/global-setup.ts"],
            // Connecting now waits for its initial resync, and the queue's retries take
            // seconds: 5 s was too tight on two shared cores.
            testTimeout: 20_000,
            // The emulators hold one shared world: test files take turns with it.
            fileParallelism: false,
            include: ["test/**/*.test.ts"],
            exclude: ["test/clients/**"],
            setupFiles: ["./test/setup.ts"],
          },
        },
        {
          // Clients nobody here wrote (Zoho's SDK, Microsoft's Graph client) run in Node
          // against emulators of their own: the test of the emulators' fidelity.
          test: {
            name: "clients",
            environment: "node",
            globalSetup: ["./test/global-setup.ts"],
            fileParallelism: false,
            include: ["test/clients/**/*.test.ts"],
            testTimeout: 30_000,
          },
        },
      ],
    },
  };
});
