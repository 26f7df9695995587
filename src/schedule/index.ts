import { createDb } from "../db/client";
import { logger } from "../lib/log";
import type { Env } from "../env";
import { settings } from "../settings";
import { dispatchDue } from "./dispatch";
import { housekeeping } from "./housekeeping";
import { sweepBehind } from "./sweep";
import { endImportsOfEndedRuns, pickupLocations, resendStalledPlans } from "../runs/pickup";
import { resendStalledRuns } from "../runs/start";
import { resendOverdueEvents } from "../events/deliver";

/** The daily housekeeping cron of wrangler.toml; every other tick dispatches due runs and sweeps. */
export const HOUSEKEEPING_CRON = "30 3 * * *";

/** `scheduled()`: dispatches on the cron expression that fired. */
export async function handleScheduled(controller: ScheduledController, env: Env, _ctx?: ExecutionContext): Promise<void> {
  const db = createDb(env.DB);
  const log = logger({ cron: controller.cron });
  if (controller.cron === HOUSEKEEPING_CRON) {
    const removed = await housekeeping(db, controller.scheduledTime, settings(env).retentionDays);
    log.info("housekeeping", { removed });
    return;
  }
  const started = await dispatchDue(db, env, controller.scheduledTime);
  if (started.resync || started.reconcile || started.pull) log.info("runs started", started);
  const resent = await sweepBehind(db, env, controller.scheduledTime);
  if (resent) log.info("jobs left behind sent again", { resent });
  const events = await resendOverdueEvents(db, env, Date.now());
  if (events) log.info("events left behind sent again", { events });
  const plans = await resendStalledPlans(db, env, Date.now());
  if (plans) log.info("stalled plans of picked-up files sent on", { plans });
  const stalledRuns = await resendStalledRuns(db, env, Date.now());
  if (stalledRuns) log.info("stalled runs sent on", { runs: stalledRuns });
  const ended = await endImportsOfEndedRuns(db, env);
  if (ended) log.info("imports whose run ended ended with it", { ended });
  // Last: it reaches out to the tenants' own buckets, whatever they answer.
  const picked = await pickupLocations(db, env, controller.scheduledTime);
  if (picked) log.info("CSV files picked up", { picked });
}
