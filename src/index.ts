import { createApp } from "./app";
import type { Env } from "./env";
import { handleScheduled } from "./schedule";
import { handleQueue } from "./jobs/router";
import type { JobMessage } from "./queue/messages";

const app = createApp();

// Wiring only: the behaviour lives in app.ts, jobs/ and schedule/.
export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, JobMessage>;
