import { withoutTrailingSlash } from "./lib/url";
import type { Env } from "./env";
import { AppError } from "./lib/errors";
import { parseAllowlist, type AllowedHost } from "./lib/outbound";

/** Settings parsed from the Worker's vars and secrets (see the README's settings table). */
export interface Settings {
  publicUrl: string;
  microsoftLoginUrl: string;
  microsoftGraphUrl: string;
  /** Days sync logs and webhook records are kept (RETENTION_DAYS, default 30). */
  retentionDays: number;
  /** Hosts tenant-supplied URLs may reach over http or at private addresses (OUTBOUND_ALLOWLIST). */
  outboundAllowlist: AllowedHost[];
  /** Rows one step of planning a picked-up file reads (IMPORT_STEP_ROWS, default 20,000). */
  importStepRows: number;
}

const cache = new WeakMap<object, Settings>();

/** Parses the settings once per Env object; a malformed value is a configuration error (500). */
export function settings(env: Env): Settings {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed: Settings = {
    publicUrl: withoutTrailingSlash(env.PUBLIC_URL || "http://localhost:8787"),
    microsoftLoginUrl: withoutTrailingSlash(env.MICROSOFT_LOGIN_URL || "https://login.microsoftonline.com"),
    microsoftGraphUrl: withoutTrailingSlash(env.MICROSOFT_GRAPH_URL || "https://graph.microsoft.com"),
    retentionDays: parseRetention(env.RETENTION_DAYS),
    outboundAllowlist: allowlist(env.OUTBOUND_ALLOWLIST),
    importStepRows: parseStepRows(env.IMPORT_STEP_ROWS),
  };
  cache.set(env, parsed);
  return parsed;
}

/**
 * Every setting of the hub's own that would make a request fail, named with what is wrong
 * (never its value), for `/healthz` and `npm start`: a bad setting is found at start, not
 * by the first request that needs it. Each provider checks its own settings (the registry's
 * `settingsProblems`).
 */
export function settingsProblems(env: Env): string[] {
  const problems: string[] = [];
  const check = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      const cause = err instanceof AppError && err.cause instanceof Error ? err.cause.message : String(err);
      problems.push(cause);
    }
  };
  check(() => parseRetention(env.RETENTION_DAYS));
  check(() => allowlist(env.OUTBOUND_ALLOWLIST));
  check(() => parseStepRows(env.IMPORT_STEP_ROWS));
  check(() => new URL(env.PUBLIC_URL || "http://localhost:8787"));
  for (const name of ["OPERATOR_TOKEN", "SESSION_SECRET", "ENCRYPTION_KEY"] as const) {
    if (!env[name]) problems.push(`${name} is not set`);
  }
  if (env.ENCRYPTION_KEY && base64Length(env.ENCRYPTION_KEY) !== 32) problems.push("ENCRYPTION_KEY must be base64 of 32 bytes");
  return problems;
}

function base64Length(value: string): number {
  try {
    return atob(value).length;
  } catch {
    return -1;
  }
}

function parseRetention(raw: string | undefined): number {
  if (!raw || raw.trim() === "") return 30;
  const days = Number(raw);
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw AppError.config("RETENTION_DAYS must be a whole number of days from 1 to 3650");
  return days;
}

function parseStepRows(raw: string | undefined): number {
  if (!raw || raw.trim() === "") return 20_000;
  const rows = Number(raw);
  if (!Number.isInteger(rows) || rows < 1 || rows > 1_000_000) throw AppError.config("IMPORT_STEP_ROWS must be a whole number of rows from 1 to 1000000");
  return rows;
}

function allowlist(raw: string | undefined): AllowedHost[] {
  try {
    return parseAllowlist(raw);
  } catch (err) {
    throw AppError.config((err as Error).message);
  }
}

