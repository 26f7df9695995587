import jsonata from "jsonata";
import * as v from "valibot";
import { PROFILE_FIELDS } from "./user-fields";
import type { FieldError } from "./errors";

/** Directory fields a mapping can read with `from` (plus `attributes.<name>`). */
export const USER_FIELDS = ["id", "email", "firstName", "lastName", "status", ...PROFILE_FIELDS] as const;

const FieldRef = v.union(
  [v.picklist(USER_FIELDS), v.pipe(v.string(), v.regex(/^attributes\.[^.\s]{1,64}$/))],
  `Expected one of ${USER_FIELDS.join(", ")}, or attributes.<name>.`,
);
const RemoteField = v.pipe(v.string(), v.minLength(1), v.maxLength(100));
const Expr = v.pipe(v.string(), v.minLength(1), v.maxLength(4000));

export const MappingEntry = v.union([
  v.strictObject({ to: RemoteField, from: FieldRef, required: v.optional(v.boolean()) }),
  v.strictObject({ to: RemoteField, expr: Expr, required: v.optional(v.boolean()) }),
]);
export type MappingEntry = v.InferOutput<typeof MappingEntry>;

const Values = v.pipe(v.array(v.pipe(v.string(), v.maxLength(256))), v.maxLength(200));

/** One scoping rule: a field and exactly one operator. */
export const ScopeRule = v.pipe(
  v.strictObject({
    field: FieldRef,
    in: v.optional(Values),
    notIn: v.optional(Values),
    equals: v.optional(v.pipe(v.string(), v.maxLength(256))),
    exists: v.optional(v.boolean()),
    matches: v.optional(v.pipe(v.string(), v.maxLength(500))),
  }),
  v.check((r) => ["in", "notIn", "equals", "exists", "matches"].filter((k) => k in r).length === 1, "Give exactly one of in, notIn, equals, exists, matches."),
);
export type ScopeRule = v.InferOutput<typeof ScopeRule>;

export const HANDLER_EVENTS = ["user.synced", "user.failed", "run.completed"] as const;

/** The config keys every integration has, whatever its provider (API.md "Integration config"). */
export const ENGINE_CONFIG_ENTRIES = {
  object: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(100))),
  mapping: v.optional(v.pipe(v.array(MappingEntry), v.maxLength(100))),
  scope: v.optional(v.strictObject({ exclude: v.optional(v.pipe(v.array(ScopeRule), v.maxLength(50))), include: v.optional(v.pipe(v.array(ScopeRule), v.maxLength(50))) })),
  matching: v.optional(v.strictObject({ by: v.pipe(v.string(), v.minLength(1), v.maxLength(100)), caseSensitive: v.boolean() })),
  onDelete: v.optional(v.picklist(["ignore", "deactivate", "delete"])),
  /** Reconciliation found the linked remote record deleted: create it again, or mark the link `unmatched`. */
  onRemoteDelete: v.optional(v.picklist(["recreate", "mark"])),
  groupRules: v.optional(v.pipe(v.array(v.strictObject({ field: FieldRef })), v.maxLength(10))),
  schedule: v.optional(
    v.strictObject({
      resyncMinutes: v.pipe(v.number(), v.integer(), v.minValue(5), v.maxValue(1440)),
      reconcile: v.picklist(["hourly", "daily", "off"]),
    }),
  ),
  handlers: v.optional(
    v.strictObject({
      before: v.optional(v.strictObject({ expr: Expr })),
      after: v.optional(v.strictObject({ url: v.pipe(v.string(), v.maxLength(2000)), events: v.pipe(v.array(v.picklist(HANDLER_EVENTS)), v.minLength(1)) })),
    }),
  ),
  maxDisablePercent: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(100))),
};

/** The engine's config keys; a provider's own keys (its connector's `config.entries`) go beside them. */
export const IntegrationConfig = v.strictObject(ENGINE_CONFIG_ENTRIES);
export type IntegrationConfig = v.InferOutput<typeof IntegrationConfig>;

/** The config of a provider: the engine's keys and the provider's own. */
export function configSchema(providerEntries: v.ObjectEntries) {
  return v.strictObject({ ...ENGINE_CONFIG_ENTRIES, ...providerEntries });
}

/**
 * A complete config: the provider's defaults with the tenant's changes on top. The
 * object also holds the provider's own keys, which only its connector reads.
 */
export type ResolvedConfig = Required<IntegrationConfig>;

/** A config as a connector reads it: the engine's keys and its own. */
export type ProviderConfig = ResolvedConfig & Readonly<Record<string, unknown>>;

/** Every integration's base config; the provider's own defaults go on top. */
export const ENGINE_DEFAULTS: Omit<ResolvedConfig, "object" | "mapping"> = {
  // DESIGN.md: program managers are left out unless the tenant says otherwise.
  scope: { exclude: [{ field: "role", in: ["program_manager"] }] },
  // MyOperator/Zoho: users are matched by exact, case-sensitive e-mail.
  matching: { by: "email", caseSensitive: true },
  onDelete: "ignore",
  onRemoteDelete: "recreate",
  groupRules: [],
  schedule: { resyncMinutes: 15, reconcile: "daily" },
  handlers: {},
  maxDisablePercent: 20,
};

/** Top-level keys replace the stored ones; nothing deeper is merged. */
export function mergeConfig(base: ResolvedConfig, patch: Readonly<Record<string, unknown>>): ResolvedConfig {
  const out = { ...base } as Record<string, unknown>;
  for (const [k, value] of Object.entries(patch)) if (value !== undefined) out[k] = value;
  return out as ResolvedConfig;
}

/**
 * Checks what valibot cannot: JSONata expressions compile, regular expressions compile,
 * the after-sync URL is https and not a private address, required mapping targets exist.
 */
export function checkConfig(config: ResolvedConfig, objects: readonly string[]): FieldError[] {
  const errors: FieldError[] = [];
  if (!objects.includes(config.object)) errors.push({ path: "config.object", message: `Expected one of ${objects.join(", ")}.` });
  config.mapping.forEach((m, i) => {
    if ("expr" in m) {
      const problem = jsonataProblem(m.expr);
      if (problem) errors.push({ path: `config.mapping.${i}.expr`, message: problem });
    }
  });
  const targets = config.mapping.map((m) => m.to);
  targets.forEach((t, i) => {
    if (targets.indexOf(t) !== i) errors.push({ path: `config.mapping.${i}.to`, message: `${t} is mapped twice.` });
  });
  for (const kind of ["exclude", "include"] as const) {
    config.scope[kind]?.forEach((r, i) => {
      if (r.matches !== undefined) {
        try {
          new RegExp(r.matches);
        } catch {
          errors.push({ path: `config.scope.${kind}.${i}.matches`, message: "Not a valid regular expression." });
        }
      }
    });
  }
  if (config.handlers.before) {
    const problem = jsonataProblem(config.handlers.before.expr);
    if (problem) errors.push({ path: "config.handlers.before.expr", message: problem });
  }
  if (config.handlers.after) {
    const problem = outboundUrlProblem(config.handlers.after.url);
    if (problem) errors.push({ path: "config.handlers.after.url", message: problem });
  }
  return errors;
}

/** The reason a JSONata expression does not compile, or null. */
export function jsonataProblem(expr: string): string | null {
  try {
    jsonata(expr);
    return null;
  } catch (err) {
    const e = err as { message?: string; position?: number };
    return `Not a valid JSONata expression: ${e.message ?? "syntax error"}${e.position !== undefined ? ` (at ${e.position})` : ""}.`;
  }
}

/**
 * DESIGN.md: tenant-supplied URLs must be https and not private addresses. Host names
 * are checked as written (a Worker cannot resolve them first).
 */
export function outboundUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Not a URL.";
  }
  if (url.protocol !== "https:") return "Must be an https URL.";
  if (url.username || url.password) return "Must not carry credentials.";
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal") || !host.includes(".") && !host.includes(":")) {
    return "Must not be a local or internal host.";
  }
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    if (a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224) {
      return "Must not be a private, loopback or link-local address.";
    }
  }
  if (host.includes(":") && (host === "::1" || host === "::" || /^f[cd]/.test(host) || /^fe[89ab]/.test(host) || host.startsWith("::ffff:"))) {
    return "Must not be a private, loopback or link-local address.";
  }
  return null;
}
