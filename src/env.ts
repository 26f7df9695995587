import type { JobMessage } from "./queue/messages";

/**
 * The Worker's bindings, mirroring wrangler.toml ([vars], bindings) and the secrets of
 * the settings table in the README. Secrets are optional in the type where a hub can run
 * without them (a provider not configured); required ones are checked by `settings()`.
 */
export interface Env {
  DB: D1Database;
  /** Every job; its consumer takes them at once, without waiting to fill a batch. */
  JOBS: Queue<JobMessage>;
  /** The push jobs of bursts and imports: a 2-second window fills batches of 100. */
  PUSH_BATCHES: Queue<JobMessage>;
  FILES: R2Bucket;
  INGEST_LIMITER: RateLimit;

  PUBLIC_URL: string;
  OPERATOR_TOKEN: string;
  ENCRYPTION_KEY: string;
  SESSION_SECRET: string;
  ZOHO_CLIENT_ID: string;
  ZOHO_CLIENT_SECRET?: string;
  ZOHO_DATA_CENTERS: string;
  MICROSOFT_CLIENT_ID: string;
  MICROSOFT_CLIENT_SECRET?: string;
  MICROSOFT_LOGIN_URL: string;
  MICROSOFT_GRAPH_URL: string;
  /** Days sync logs and webhook records are kept; default 30. */
  RETENTION_DAYS?: string;
  OUTBOUND_ALLOWLIST?: string;
  IMPORT_STEP_ROWS?: string;
  /** The queue whose batches are dead letters (wrangler.toml's `dead_letter_queue`). */
  DEAD_LETTER_QUEUE: string;
}
