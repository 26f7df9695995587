import jsonata from "jsonata";
import type { ResolvedConfig, ScopeRule } from "../lib/config";

/** The directory user as mappings and expressions see it (API.md's user shape). */
export type SourceUser = Record<string, unknown> & { id: string; email: string; attributes: Record<string, string> };

const compiled = new Map<string, jsonata.Expression>();

/** Compiles once per isolate; config saving already refused expressions that do not compile. */
function expression(expr: string): jsonata.Expression {
  let e = compiled.get(expr);
  if (!e) {
    e = jsonata(expr);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(expr, e);
  }
  return e;
}

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
  if (rule.matches !== undefined) return value !== null && new RegExp(rule.matches).test(value);
  return false;
}

function describe(rule: ScopeRule): string {
  const [op, arg] = Object.entries(rule).find(([k]) => k !== "field")!;
  return `${rule.field} ${op} ${JSON.stringify(arg)}`;
}

/** Why the person is out of the integration's scope, or null when in scope. */
export function outOfScope(user: SourceUser, scope: ResolvedConfig["scope"]): string | null {
  for (const rule of scope.exclude ?? []) if (ruleMatches(rule, user)) return `excluded by scope (${describe(rule)})`;
  if (scope.include?.length && !scope.include.some((r) => ruleMatches(r, user))) return "not included by scope";
  return null;
}

export type MapResult =
  | { ok: true; payload: Record<string, unknown>; hash: string }
  | { ok: false; reason: "expression_failed" | "missing_required" | "before_failed"; field: string | null; message: string };

/**
 * The remote payload for one person: the `before` transform (JSONata, its object merged
 * over the user), then each mapping entry, direct (`from`) or JSONata (`expr`). An
 * expression that fails at run time fails this person only. Empty values map to null
 * so that clearing a field in the directory clears it remotely.
 */
export async function mapUser(user: SourceUser, config: ResolvedConfig): Promise<MapResult> {
  let source = user;
  if (config.handlers.before) {
    try {
      const changed: unknown = await expression(config.handlers.before.expr).evaluate(user);
      if (changed !== undefined && (typeof changed !== "object" || changed === null || Array.isArray(changed))) {
        return { ok: false, reason: "before_failed", field: null, message: "The before transform must give an object." };
      }
      if (changed) source = { ...user, ...(changed as Record<string, unknown>) };
    } catch (err) {
      return { ok: false, reason: "before_failed", field: null, message: `The before transform failed: ${(err as Error).message}` };
    }
  }
  const payload: Record<string, unknown> = {};
  for (const entry of config.mapping) {
    let value: unknown;
    if ("from" in entry) value = valueOf(source, entry.from);
    else {
      try {
        value = await expression(entry.expr).evaluate(source);
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
