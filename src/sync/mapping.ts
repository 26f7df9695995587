import { evaluate, ExpressionFailed } from "../lib/expressions";
import { patternProblem, patternTest } from "../lib/patterns";
import type { ResolvedConfig, ScopeRule } from "../lib/config";

/** The directory user as mappings and expressions see it (API.md's user shape). */
export type SourceUser = Record<string, unknown> & { id: string; email: string; attributes: Record<string, string> };

function valueOf(user: SourceUser, field: string): unknown {
  if (field.startsWith("attributes.")) return user.attributes[field.slice("attributes.".length)];
  return user[field];
}

function asText(value: unknown): string | null {
  return value === undefined || value === null || value === "" ? null : String(value);
}

function ruleMatches(rule: ScopeRule, user: SourceUser): boolean {
  const value = asText(valueOf(user, rule.field));
  if (rule.in) return value !== null && rule.in.includes(value);
  if (rule.notIn) return value === null || !rule.notIn.includes(value);
  if (rule.equals !== undefined) return value === rule.equals;
  if (rule.exists !== undefined) return (value !== null) === rule.exists;
  if (rule.matches !== undefined) return value !== null && patternTest(rule.matches, value);
  return false;
}

function describe(rule: ScopeRule): string {
  const [op, arg] = Object.entries(rule).find(([k]) => k !== "field")!;
  return `${rule.field} ${op} ${JSON.stringify(arg)}`;
}

/** Why the person is out of the integration's scope, or null when in scope. */
export function outOfScope(user: SourceUser, scope: ResolvedConfig["scope"]): string | null {
  // A pattern saved before patterns ran on RE2 (a backreference, lookaround) cannot run:
  // nobody is pushed past a rule the hub cannot apply, and each says why.
  for (const rule of [...(scope.exclude ?? []), ...(scope.include ?? [])]) {
    if (rule.matches !== undefined && patternProblem(rule.matches)) return `excluded: the scope rule ${describe(rule)} cannot run (${patternProblem(rule.matches)}); save it again`;
  }
  for (const rule of scope.exclude ?? []) if (ruleMatches(rule, user)) return `excluded by scope (${describe(rule)})`;
  if (scope.include?.length && !scope.include.some((r) => ruleMatches(r, user))) return "not included by scope";
  return null;
}

export type MapResult =
  | { ok: true; payload: Record<string, unknown>; hash: string }
  | { ok: false; reason: "expression_failed" | "missing_required"; field: string | null; message: string }
  /** The `before` handler skipped the person (`null`), or failed or ran past its budget: the person is skipped, never the batch. */
  | { ok: false; reason: "before_skipped" | "before_failed"; field: null; message: string };

/** What the `before` handler sees of the integration. */
export interface HandlerIntegration {
  id: string;
  name: string;
  provider: string;
}

/**
 * The `before` handler (API.md "Handlers"): JSONata over `{ user, integration }` that
 * gives the user to sync (a changed copy) or null to skip them. The person's id is theirs
 * whatever the expression gives. Answers the user, or why the person is skipped.
 */
export async function beforeHandler(expr: string, user: SourceUser, integration: HandlerIntegration): Promise<{ user: SourceUser } | { skipped: true; failed: boolean; message: string }> {
  let result: unknown;
  try {
    result = await evaluate(expr, { user, integration });
  } catch (err) {
    const why = err instanceof ExpressionFailed ? err.message : String(err);
    return { skipped: true, failed: true, message: `The before handler failed: ${why}. The person was skipped.` };
  }
  if (result === null) return { skipped: true, failed: false, message: "The before handler skipped the person (it gave null)." };
  if (typeof result !== "object" || result === undefined || Array.isArray(result)) {
    return { skipped: true, failed: true, message: `The before handler must give the user to sync (an object) or null; it gave ${result === undefined ? "nothing" : Array.isArray(result) ? "a list" : typeof result}. The person was skipped.` };
  }
  const changed = result as Record<string, unknown>;
  const attributes = typeof changed.attributes === "object" && changed.attributes !== null && !Array.isArray(changed.attributes) ? (changed.attributes as Record<string, string>) : {};
  return { user: { ...changed, id: user.id, email: typeof changed.email === "string" ? changed.email : user.email, attributes } };
}

/**
 * The remote payload for one person: the `before` handler, then each mapping entry,
 * direct (`from`) or JSONata (`expr`). An expression that fails at run time fails this
 * person only. Empty values map to null so that clearing a field in the directory clears
 * it remotely.
 */
export async function mapUser(user: SourceUser, config: ResolvedConfig, integration: HandlerIntegration): Promise<MapResult> {
  let source = user;
  if (config.handlers.before) {
    const before = await beforeHandler(config.handlers.before.expr, user, integration);
    if ("skipped" in before) return { ok: false, reason: before.failed ? "before_failed" : "before_skipped", field: null, message: before.message };
    source = before.user;
  }
  const payload: Record<string, unknown> = {};
  for (const entry of config.mapping) {
    let value: unknown;
    if ("from" in entry) value = valueOf(source, entry.from);
    else {
      try {
        value = await evaluate(entry.expr, source);
      } catch (err) {
        return { ok: false, reason: "expression_failed", field: entry.to, message: `The expression for ${entry.to} failed: ${(err as Error).message}` };
      }
    }
    const empty = value === undefined || value === null || value === "";
    if (empty && entry.required) {
      return { ok: false, reason: "missing_required", field: entry.to, message: `${entry.to} is required but ${"from" in entry ? entry.from : "its expression"} has no value.` };
    }
    payload[entry.to] = empty ? null : value;
  }
  return { ok: true, payload, hash: await payloadHash(payload) };
}

/** SHA-256 of the payload with sorted keys: equal payloads, equal hashes. */
export async function payloadHash(payload: Record<string, unknown>): Promise<string> {
  const canonical = JSON.stringify(Object.keys(payload).sort().map((k) => [k, payload[k]]));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
