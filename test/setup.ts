import { applyD1Migrations, env } from "cloudflare:test";

// The same migrations `wrangler d1 migrations apply` runs; applying is idempotent.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
