import jsonata from "jsonata";
import { LinearRegExp, patternProblem } from "./patterns";

/**
 * JSONata as the hub runs tenant expressions (mapping entries and the `before` handler):
 * compiled once per isolate, evaluated within a budget so that a runaway expression fails
 * itself rather than the batch it is in. JSONata interprets its syntax tree; nothing is
 * generated from strings, which production Workers refuse.
 *
 * The budget (docs/handlers.md): at most BUDGET.steps evaluation steps, BUDGET.depth nested
 * calls, BUDGET.sequence items in any sequence (ranges included), BUDGET.stringChars
 * characters in any string made along the way, and BUDGET.outputBytes of JSON in the
 * result. Steps stand in for time: a Worker's clock does not move while code runs, so a
 * wall-clock limit alone would never fire in production (JSONata's own `timeout` is set
 * too, for runtimes whose clock does move).
 */
export const BUDGET = { steps: 100_000, depth: 200, sequence: 10_000, stringChars: 100_000, outputBytes: 64 * 1024, timeoutMs: 1_000 };

export class ExpressionFailed extends Error {}

interface Budget {
  steps: number;
}

const BUDGET_BINDING = "__usersync_budget";

/**
 * RE2 as jsonata's regex engine. jsonata's typings ask for the whole RegExpConstructor,
 * but jsonata only calls `new RegexEngine(regex)`, then `lastIndex` and `exec`
 * (evaluateRegex in jsonata.js), which LinearRegExp gives.
 */
const RE2_ENGINE = LinearRegExp as typeof LinearRegExp & RegExpConstructor;
const compiled = new Map<string, jsonata.Expression>();

/**
 * Binds one of JSONata's evaluation hooks (`Symbol.for("jsonata.__evaluate_entry")` and
 * `…exit`, read from the bindings in jsonata.js): its typings name bindings by string only.
 */
function assignHook(e: jsonata.Expression, hook: "__evaluate_entry" | "__evaluate_exit", fn: (...args: never[]) => void): void {
  const assign = e.assign as (name: string | symbol, value: unknown) => void;
  assign.call(e, Symbol.for(`jsonata.${hook}`), fn);
}

/** Compiles once per isolate (saving a config refuses expressions that do not compile). */
function expression(expr: string): jsonata.Expression {
  let e = compiled.get(expr);
  if (!e) {
    // Regex literals run on RE2 (lib/patterns.ts): linear time, whatever the pattern.
    e = jsonata(expr, { stack: BUDGET.depth, sequence: BUDGET.sequence, timeout: BUDGET.timeoutMs, RegexEngine: RE2_ENGINE });
    // The hooks are JSONata's own (`__evaluate_entry`/`__evaluate_exit`); each evaluation
    // finds its own budget in its bindings, so concurrent evaluations never share one.
    assignHook(e, "__evaluate_entry", (_node: unknown, _input: unknown, env: { lookup(name: string): unknown }) => {
      const budget = env.lookup(BUDGET_BINDING) as Budget | undefined;
      if (budget && ++budget.steps > BUDGET.steps) throw new ExpressionFailed(`it took more than ${BUDGET.steps} steps`);
    });
    assignHook(e, "__evaluate_exit", (_node: unknown, _input: unknown, _env: unknown, result: unknown) => {
      if (typeof result === "string" && result.length > BUDGET.stringChars) throw new ExpressionFailed(`it made a string longer than ${BUDGET.stringChars} characters`);
    });
    if (compiled.size > 1000) compiled.clear();
    compiled.set(expr, e);
  }
  return e;
}

/** The regex literals of a parsed expression (JSONata's syntax tree keeps each as a `regex` node). */
function regexLiterals(node: unknown, out: RegExp[] = []): RegExp[] {
  if (node instanceof RegExp) out.push(node);
  else if (Array.isArray(node)) for (const n of node) regexLiterals(n, out);
  else if (node && typeof node === "object") for (const n of Object.values(node)) regexLiterals(n, out);
  return out;
}

/**
 * The reason a JSONata expression does not compile (with its position), or uses a regex
 * that cannot run in linear time (a backreference, lookaround), or null.
 */
export function expressionProblem(expr: string): string | null {
  try {
    for (const re of regexLiterals(jsonata(expr).ast())) {
      const problem = patternProblem(re.source, re.flags.replace("g", ""));
      if (problem) return `The regex /${re.source}/: ${problem}`;
    }
    return null;
  } catch (err) {
    const e = err as { message?: string; position?: number };
    return `Not a valid JSONata expression: ${e.message ?? "syntax error"}${e.position !== undefined ? ` (at ${e.position})` : ""}.`;
  }
}

/** Evaluates within the budget; throws ExpressionFailed with why it failed. */
export async function evaluate(expr: string, input: unknown): Promise<unknown> {
  let result: unknown;
  try {
    result = await expression(expr).evaluate(input, { [BUDGET_BINDING]: { steps: 0 } satisfies Budget });
  } catch (err) {
    if (err instanceof ExpressionFailed) throw err;
    const e = err as { message?: string; code?: string };
    if (err instanceof RangeError) throw new ExpressionFailed("it recursed too deeply");
    throw new ExpressionFailed(e.message ?? e.code ?? String(err));
  }
  if (result !== undefined && (JSON.stringify(result)?.length ?? 0) > BUDGET.outputBytes) throw new ExpressionFailed(`its result is larger than ${BUDGET.outputBytes / 1024} KiB`);
  return result;
}
