import { expressionProblem } from "./expressions";
import { patternProblem } from "./patterns";
import { outboundUrlProblem, type AllowedHost } from "./outbound";
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

/** The events an `after` handler may subscribe to (API.md "Handlers"). */
export const HANDLER_EVENTS = ["user.synced", "user.failed", "user.excluded", "run.completed", "run.held", "integration.reconnect_required", "import.completed"] as const;
export type HandlerEvent = (typeof HANDLER_EVENTS)[number];

/** The config keys every integration has, whatever its provider (API.md "Integration config"). */
export const ENGINE_CONFIG_ENTRIES = {
  object: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(100))),
  mapping: v.optional(v.pipe(v.array(MappingEntry), v.maxLength(100))),
  scope: v.optional(v.strictObject({ exclude: v.optional(v.pipe(v.array(ScopeRule), v.maxLength(50))), include: v.optional(v.pipe(v.array(ScopeRule), v.maxLength(50))) })),
  matching: v.optional(v.strictObject({ by: v.pipe(v.string(), v.minLength(1), v.maxLength(100)), caseSensitive: v.boolean() })),
  onDelete: v.optional(v.picklist(["ignore", "deactivate", "delete"])),
  /** Reconciliation found the linked remote record deleted: create it again, or mark the link `unmatched`. */
  onRemoteDelete: v.optional(v.picklist(["recreate", "mark"])),
  /**
   * Groups that follow a field: each person is in the group named by their value of
   * `field` (with `prefix` before it), created when missing if `create` is on.
   */
  groupRules: v.optional(
    v.pipe(
      v.array(v.strictObject({ field: FieldRef, prefix: v.optional(v.pipe(v.string(), v.maxLength(50))), create: v.optional(v.boolean()) })),
      v.maxLength(10),
    ),
  ),
  schedule: v.optional(
    v.strictObject({
      resyncMinutes: v.pipe(v.number(), v.integer(), v.minValue(5), v.maxValue(1440)),
      reconcile: v.picklist(["hourly", "daily", "off"]),
      /** Sources: minutes between incremental pulls, and how often a full pull looks for leavers. */
      pullMinutes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(5), v.maxValue(1440))),
      fullPull: v.optional(v.picklist(["hourly", "daily", "weekly", "off"])),
    }),
  ),
  handlers: v.optional(
    v.strictObject({
      before: v.optional(v.strictObject({ expr: Expr })),
      after: v.optional(
        v.strictObject({
          url: v.pipe(v.string(), v.maxLength(2000)),
          events: v.pipe(v.array(v.picklist(HANDLER_EVENTS, `Expected one of ${HANDLER_EVENTS.join(", ")}.`)), v.minLength(1, "Choose at least one event."), v.maxLength(HANDLER_EVENTS.length)),
        }),
      ),
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

/** The mass-change guard's default limit, for an integration and for an import that names none. */
export const DEFAULT_MAX_DISABLE_PERCENT = 20;

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
  maxDisablePercent: DEFAULT_MAX_DISABLE_PERCENT,
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
export function checkConfig(config: ResolvedConfig, objects: readonly string[], allow: readonly AllowedHost[]): FieldError[] {
  const errors: FieldError[] = [];
  if (!objects.includes(config.object)) errors.push({ path: "config.object", message: `Expected one of ${objects.join(", ")}.` });
  config.mapping.forEach((m, i) => {
    if ("expr" in m) {
      const problem = expressionProblem(m.expr);
      if (problem) errors.push({ path: `config.mapping.${i}.expr`, message: problem });
    }
  });
  const targets = config.mapping.map((m) => m.to);
  targets.forEach((t, i) => {
    if (targets.indexOf(t) !== i) errors.push({ path: `config.mapping.${i}.to`, message: `${t} is mapped twice.` });
  });
  for (const kind of ["exclude", "include"] as const) {
    config.scope[kind]?.forEach((r, i) => {
      const problem = r.matches === undefined ? null : patternProblem(r.matches);
      if (problem) errors.push({ path: `config.scope.${kind}.${i}.matches`, message: problem });
    });
  }
  if (config.handlers.before) {
    const problem = expressionProblem(config.handlers.before.expr);
    if (problem) errors.push({ path: "config.handlers.before.expr", message: problem });
  }
  if (config.handlers.after) {
    const problem = outboundUrlProblem(config.handlers.after.url, allow);
    if (problem) errors.push({ path: "config.handlers.after.url", message: problem });
  }
  return errors;
}

