import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with the bindings of wrangler.toml (real D1, Queues, R2);
// only the secrets, which never live in wrangler.toml, are given here.
export const TEST_SECRETS = {
  OPERATOR_TOKEN: "test-operator-token",
  ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
  SESSION_SECRET: "test-session-secret-0123456789abcdef",
};

/**
 * Every setting the hub reads, pointed at the emulators (emulators/wrangler.toml has the
 * same client ids and secrets), so that a developer's .dev.vars never leaks into tests.
 */
function emulatorSettings(emulatorUrl: string) {
  const dc = (id: string) => ({
    id,
    accounts: `${emulatorUrl}/zoho/${id}/accounts`,
    api: `${emulatorUrl}/zoho/${id}/api`,
    crm: `${emulatorUrl}/zoho/${id}/crm`,
    connect: `${emulatorUrl}/zoho/${id}/connect`,
    people: `${emulatorUrl}/zoho/${id}/people`,
  });
  return {
    PUBLIC_URL: "http://hub.test",
    ZOHO_CLIENT_ID: "1000.EMULATORCLIENT",
    ZOHO_CLIENT_SECRET: "emulator-zoho-secret",
    ZOHO_DATA_CENTERS: JSON.stringify([dc("us"), dc("eu")]),
    MICROSOFT_CLIENT_ID: "00000000-0000-0000-0000-00000000e001",
    MICROSOFT_CLIENT_SECRET: "emulator-microsoft-secret",
    MICROSOFT_LOGIN_URL: `${emulatorUrl}/microsoft/login`,
    MICROSOFT_GRAPH_URL: `${emulatorUrl}/microsoft/graph`,
  };
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            ...TEST_SECRETS,
            ...emulatorSettings(inject("emulatorUrl")),
            TEST_MIGRATIONS: migrations,
            EMULATOR_URL: inject("emulatorUrl"),
          },
        },
      })),
    ],
    test: {
      globalSetup: ["./test/global-setup.ts"],
      // The emulators hold one shared world: test files take turns with it.
      fileParallelism: false,
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/setup.ts"],
    },
  };
});
