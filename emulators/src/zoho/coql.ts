import type { Record_ } from "../state";
import { hasField } from "./metadata";

// COQL as Zoho documents it (COQL-Overview.html, COQL-Limitations.html): `select f, … from
// Module [where cond [and|or cond …]] [order by f [asc|desc]] [limit n | limit offset, n |
// limit n offset m]` where a condition is `f = 'v'`, `f != 'v'`, `f like '%v%'`,
// `f not like …`, `f in (…)` / `f not in (…)` (up to 100 values since v7), `f is [not] null`,
// or a comparison (`>`, `>=`, `<`, `<=`) of a number (`id > 5725767000000412001`) or of a
// quoted datetime with an offset. `select` takes up to 500 fields, or aggregates such as
// `COUNT(id)`, answered as one row `{"COUNT(id)": 42}`. An unknown column is a 400
// INVALID_QUERY naming it. At most 2,000 rows a call and 100,000 in all (offset + limit);
// text comparisons ignore case. Ids are ordered as numbers, as Zoho's bigint ids are.

const MAX_LIMIT = 2000;
const MAX_OFFSET = 100_000;

type Condition = (r: Record_) => boolean;
type CoqlError = { code: string; message: string; details: Record<string, unknown> };

const QUERY =
  /^\s*select\s+(.+?)\s+from\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+where\s+(.+?))?(?:\s+order\s+by\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?)?(?:\s+limit\s+(\d+)(?:\s*,\s*(\d+)|\s+offset\s+(\d+))?)?\s*;?\s*$/is;
const MAX_IN = 100;
const MAX_FIELDS = 500;
const AGGREGATE = /^(count|sum|max|min|avg)\(\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)$/i;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)$/;

function syntax(message: string): { error: CoqlError } {
  return { error: { code: "SYNTAX_ERROR", message, details: {} } };
}

function text(v: unknown): string | null {
  return typeof v === "string" ? v.toLowerCase() : typeof v === "number" ? String(v) : null;
}

/** A condition and the column it reads, or null when it is not COQL the emulator knows. */
function parseCondition(src: string): { test: Condition; field: string } | null | "too many values" {
  let m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=|!=)\s*'((?:[^']|'')*)'\s*$/s.exec(src);
  if (m) {
    const [, field, op, raw] = m;
    const value = raw!.replace(/''/g, "'").toLowerCase();
    return { field: field!, test: op === "=" ? (r) => text(r[field!]) === value : (r) => text(r[field!]) !== value };
  }
  m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s+(not\s+)?like\s+'((?:[^']|'')*)'\s*$/is.exec(src);
  if (m) {
    const [, field, not, raw] = m;
    const pattern = new RegExp(`^${raw!.replace(/''/g, "'").toLowerCase().split("%").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s");
    const matches = (r: Record_) => pattern.test(text(r[field!]) ?? "");
    return { field: field!, test: not ? (r) => !matches(r) : matches };
  }
  m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=|>|<)\s*'([^']+)'\s*$/s.exec(src);
  if (m && DATETIME.test(m[3]!)) {
    const [, field, op, raw] = m;
    const bound = Date.parse(raw!);
    const test = { ">": (d: number) => d > 0, ">=": (d: number) => d >= 0, "<": (d: number) => d < 0, "<=": (d: number) => d <= 0 }[op as ">" | ">=" | "<" | "<="];
    return {
      field: field!,
      test: (r) => {
        const v = typeof r[field!] === "string" ? Date.parse(r[field!] as string) : NaN;
        return !Number.isNaN(v) && test(v - bound);
      },
    };
  }
  m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=|>|<)\s*'?(\d{1,30})'?\s*$/s.exec(src);
  if (m) {
    const [, field, op, raw] = m;
    const bound = BigInt(raw!);
    const test = { ">": (d: bigint) => d > 0n, ">=": (d: bigint) => d >= 0n, "<": (d: bigint) => d < 0n, "<=": (d: bigint) => d <= 0n }[op as ">" | ">=" | "<" | "<="];
    return {
      field: field!,
      test: (r) => {
        const v = r[field!];
        return (typeof v === "string" && /^\d+$/.test(v)) || typeof v === "number" ? test(BigInt(v) - bound) : false;
      },
    };
  }
  m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s+(not\s+)?in\s*\((.*)\)\s*$/is.exec(src);
  if (m) {
    const [, field, not, list] = m;
    const values = new Set([...list!.matchAll(/'((?:[^']|'')*)'/g)].map((v) => v[1]!.replace(/''/g, "'").toLowerCase()));
    if (values.size > MAX_IN) return "too many values";
    return { field: field!, test: not ? (r) => !values.has(text(r[field!]) ?? "\u0000") : (r) => values.has(text(r[field!]) ?? "\u0000") };
  }
  m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s+is\s+(not\s+)?null\s*$/is.exec(src);
  if (m) {
    const [, field, not] = m;
    const empty = (r: Record_) => r[field!] === undefined || r[field!] === null || r[field!] === "";
    return { field: field!, test: not ? (r) => !empty(r) : empty };
  }
  return null;
}

/** Removes parentheses around the whole expression, only when they match each other. */
function stripOuter(src: string): string {
  let s = src.trim();
  while (s.startsWith("(") && s.endsWith(")")) {
    let depth = 0;
    let quoted = false;
    let closesAtEnd = true;
    for (let i = 0; i < s.length; i++) {
      const ch = s[i];
      if (ch === "'") quoted = !quoted;
      else if (!quoted && ch === "(") depth++;
      else if (!quoted && ch === ")" && --depth === 0 && i < s.length - 1) {
        closesAtEnd = false;
        break;
      }
    }
    if (!closesAtEnd) break;
    s = s.slice(1, -1).trim();
  }
  return s;
}

/** Splits on top-level `and`/`or` outside quotes and parentheses. */
function splitLogical(src: string): { parts: string[]; ops: string[] } {
  const parts: string[] = [];
  const ops: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (ch === "'") quoted = !quoted;
    else if (!quoted && ch === "(") depth++;
    else if (!quoted && ch === ")") depth--;
    else if (!quoted && depth === 0) {
      const rest = src.slice(i).toLowerCase();
      const op = /^\s(and|or)\s/.exec(rest);
      if (op) {
        parts.push(src.slice(start, i));
        ops.push(op[1]!);
        i += op[0].length - 1;
        start = i + 1;
      }
    }
  }
  parts.push(src.slice(start));
  return { parts, ops };
}

/** Numbers (and numeric ids) by value, the rest as text. */
function compare(a: unknown, b: unknown): number {
  const x = String(a ?? "");
  const y = String(b ?? "");
  if (/^\d+$/.test(x) && /^\d+$/.test(y)) return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
  const [a_, b_] = [x.toLowerCase(), y.toLowerCase()];
  return a_ < b_ ? -1 : a_ > b_ ? 1 : 0;
}

/** Runs a COQL query against a module's records. */
export function runCoql(query: string, moduleOf: (name: string) => Map<string, Record_> | null): { rows: Record<string, unknown>[]; more: boolean } | { error: CoqlError } {
  const m = QUERY.exec(query);
  if (!m) return syntax("the query is not valid COQL");
  const [, fieldList, moduleName, where, orderBy, direction, first, second, offsetWord] = m;
  const store = moduleOf(moduleName!);
  if (!store) return { error: { code: "INVALID_QUERY", message: "invalid module", details: { module: moduleName } } };
  const fields = fieldList!.split(",").map((f) => f.trim());
  if (!fields.length || fields.length > MAX_FIELDS) return syntax(`select between 1 and ${MAX_FIELDS} fields`);
  // A column the module does not have: its metadata, or a field some record holds.
  const known = (field: string) => {
    const base = field.split(".")[0]!;
    return base === "id" || hasField(moduleName!, base) || [...store.values()].some((r) => base in r);
  };
  const unknown = (field: string) => ({ error: { code: "INVALID_QUERY", message: "invalid column given", details: { column_name: field } } });

  let filter: Condition = () => true;
  if (where) {
    const { parts, ops } = splitLogical(stripOuter(where));
    if (parts.length > 25) return syntax("at most 25 criteria in WHERE");
    const conditions = parts.map((p) => parseCondition(stripOuter(p)));
    if (conditions.includes("too many values")) return { error: { code: "LIMIT_EXCEEDED", message: `at most ${MAX_IN} values in an in clause`, details: { limit: MAX_IN } } };
    if (conditions.some((c) => c === null)) return syntax("unsupported condition in where");
    const cs = conditions as { test: Condition; field: string }[];
    const bad = cs.find((c) => !known(c.field));
    if (bad) return unknown(bad.field);
    filter = (r) => {
      let result = cs[0]!.test(r);
      for (let i = 0; i < ops.length; i++) result = ops[i] === "and" ? result && cs[i + 1]!.test(r) : result || cs[i + 1]!.test(r);
      return result;
    };
  }
  const aggregates = fields.map((f) => AGGREGATE.exec(f));
  for (const [i, f] of fields.entries()) {
    const column = aggregates[i]?.[2] ?? f;
    if (!known(column)) return unknown(column);
  }
  if (orderBy && !known(orderBy)) return unknown(orderBy);
  // `limit offset, count` and `limit count offset offset` (COQL-Overview.html).
  const offset = second !== undefined ? Number(first) : offsetWord !== undefined ? Number(offsetWord) : 0;
  const limit = second !== undefined ? Number(second) : first !== undefined ? Number(first) : 200;
  if (limit > MAX_LIMIT) return { error: { code: "LIMIT_EXCEEDED", message: `limit must be at most ${MAX_LIMIT}`, details: { limit: MAX_LIMIT } } };
  if (offset + limit > MAX_OFFSET) return { error: { code: "LIMIT_EXCEEDED", message: "at most 100,000 rows can be read with COQL", details: {} } };

  let rows = [...store.values()].filter(filter);
  if (aggregates.some(Boolean)) {
    if (!aggregates.every(Boolean)) return syntax("aggregate and plain fields need a group by, which the emulator does not support");
    const row: Record<string, unknown> = {};
    for (const [i, f] of fields.entries()) row[f] = aggregate(aggregates[i]![1]!.toLowerCase(), aggregates[i]![2]!, rows);
    return { rows: [row], more: false };
  }
  const key = orderBy ?? "id";
  rows.sort((a, b) => compare(a[key], b[key]) * (direction?.toLowerCase() === "desc" ? -1 : 1));
  const more = rows.length > offset + limit;
  rows = rows.slice(offset, offset + limit);
  return {
    rows: rows.map((r) => {
      const out: Record_ = { id: r.id };
      for (const f of fields) if (f !== "id") out[f] = r[f] ?? null;
      return out;
    }),
    more,
  };
}

/** COUNT counts the rows whose field has a value; SUM, MAX, MIN and AVG read numbers. */
function aggregate(fn: string, field: string, rows: Record_[]): number | null {
  const present = rows.filter((r) => r[field] !== undefined && r[field] !== null && r[field] !== "");
  if (fn === "count") return present.length;
  const numbers = present.map((r) => Number(r[field])).filter((n) => !Number.isNaN(n));
  if (!numbers.length) return null;
  if (fn === "sum") return numbers.reduce((a, b) => a + b, 0);
  if (fn === "max") return Math.max(...numbers);
  if (fn === "min") return Math.min(...numbers);
  return numbers.reduce((a, b) => a + b, 0) / numbers.length;
}
