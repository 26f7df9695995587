import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with the bindings of wrangler.toml (real D1, Queues, R2);
// only the secrets, which never live in wrangler.toml, are given here.
export const TEST_SECRETS = {
  OPERATOR_TOKEN: "test-operator-token",
  ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
  SESSION_SECRET: "test-session-secret-0123456789abcdef",
  ZOHO_CLIENT_SECRET: "test-zoho-secret",
  MICROSOFT_CLIENT_SECRET: "test-microsoft-secret",
};

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: { ...TEST_SECRETS, TEST_MIGRATIONS: migrations },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/setup.ts"],
    },
  };
});
