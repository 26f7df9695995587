/**
 * Structured log lines (one JSON object a line, as Workers Logs indexes them). A logger
 * carries the fields of where it was made (a request id, a tenant, an integration), so
 * the code that logs names only what happened.
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields`. */
  with(fields: LogFields): Logger;
}

export function logger(base: LogFields = {}): Logger {
  const line = (level: "info" | "warn" | "error", msg: string, fields?: LogFields) => {
    const text = JSON.stringify({ level, msg, ...base, ...fields });
    if (level === "error") console.error(text);
    else console.log(text);
  };
  return {
    info: (msg, fields) => line("info", msg, fields),
    warn: (msg, fields) => line("warn", msg, fields),
    error: (msg, fields) => line("error", msg, fields),
    with: (fields) => logger({ ...base, ...fields }),
  };
}

/** The message of a thrown value, for a log line. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
