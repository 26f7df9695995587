import { createDb } from "../db/client";
import type { Env } from "../env";
import { housekeeping } from "./housekeeping";

/** The daily housekeeping cron of wrangler.toml. */
export const HOUSEKEEPING_CRON = "30 3 * * *";

/** `scheduled()`: dispatches on the cron expression that fired. */
export async function handleScheduled(controller: ScheduledController, env: Env, _ctx?: ExecutionContext): Promise<void> {
  const db = createDb(env.DB);
  if (controller.cron === HOUSEKEEPING_CRON) {
    const removed = await housekeeping(db, controller.scheduledTime);
    console.log(JSON.stringify({ level: "info", msg: "housekeeping", removed }));
  }
}
