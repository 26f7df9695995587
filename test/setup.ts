import { applyD1Migrations, env } from "cloudflare:test";

// The same migrations `wrangler d1 migrations apply` runs; applying is idempotent.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

// The emulators hold one shared world and test files take turns with it: each file starts
// without the faults an earlier file may have left set (push.test.ts ends with 30 % of
// Zoho's calls failing, which slowed a later file's 10,000 pushes past its wait).
const cleared = await fetch(`${env.EMULATOR_URL}/_emulator/faults`, { method: "DELETE" });
if (!cleared.ok) throw new Error(`clearing the emulators' faults failed: ${cleared.status}`);
