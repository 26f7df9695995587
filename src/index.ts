import { createApp } from "./app";
import type { Env } from "./env";
import { handleScheduled } from "./schedule";
import { handleQueue } from "./sync/consumer";
import type { JobMessage } from "./sync/jobs";

const app = createApp();

// Wiring only: the behaviour lives in app.ts, sync/ and schedule/.
export default {
  fetch: app.fetch,
  queue: handleQueue,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env, JobMessage>;
