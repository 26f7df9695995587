import type { Record_ } from "../state";

// The part of COQL the hub uses (COQL-Limitations.html): `select f, … from Module
// [where cond [and|or cond …]] [order by f [asc|desc]] [limit [offset,] count]` where a
// condition is `f = 'v'`, `f != 'v'`, `f in ('a', 'b')`, `f is null`, `f is not null`, or a
// comparison of a number field (`id > 5725767000000412001`, also `>=`, `<`, `<=`).
// At most 2,000 rows a call and 100,000 in all (offset + limit); text equality ignores case.
// Ids are ordered as numbers, as Zoho's bigint ids are.

const MAX_LIMIT = 2000;
const MAX_OFFSET = 100_000;

type Condition = (r: Record_) => boolean;
type CoqlError = { code: string; message: string; details: Record<string, unknown> };

const QUERY =
  /^\s*select\s+(.+?)\s+from\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+where\s+(.+?))?(?:\s+order\s+by\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?)?(?:\s+limit\s+(\d+)(?:\s*,\s*(\d+))?)?\s*;?\s*$/is;

function syntax(message: string): { error: CoqlError } {
  return { error: { code: "SYNTAX_ERROR", message, details: {} } };
}

function text(v: unknown): string | null {
  return typeof v === "string" ? v.toLowerCase() : typeof v === "number" ? String(v) : null;
}

function parseCondition(src: string): Condition | null {
  let m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=|!=)\s*'((?:[^']|'')*)'\s*$/s.exec(src);
  if (m) {
    const [, field, op, raw] = m;
    const value = raw!.replace(/''/g, "'").toLowerCase();
    return op === "=" ? (r) => text(r[field!]) === value : (r) => text(r[field!]) !== value;
  }
  m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=|>|<)\s*'?(\d{1,30})'?\s*$/s.exec(src);
  if (m) {
    const [, field, op, raw] = m;
    const bound = BigInt(raw!);
    const test = { ">": (d: bigint) => d > 0n, ">=": (d: bigint) => d >= 0n, "<": (d: bigint) => d < 0n, "<=": (d: bigint) => d <= 0n }[op as ">" | ">=" | "<" | "<="];
    return (r) => {
      const v = r[field!];
      return (typeof v === "string" && /^\d+$/.test(v)) || typeof v === "number" ? test(BigInt(v) - bound) : false;
    };
  }
  m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s+(not\s+)?in\s*\((.*)\)\s*$/is.exec(src);
  if (m) {
    const [, field, not, list] = m;
    const values = new Set([...list!.matchAll(/'((?:[^']|'')*)'/g)].map((v) => v[1]!.replace(/''/g, "'").toLowerCase()));
    if (values.size > 50) return null;
    return not ? (r) => !values.has(text(r[field!]) ?? "\u0000") : (r) => values.has(text(r[field!]) ?? "\u0000");
  }
  m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s+is\s+(not\s+)?null\s*$/is.exec(src);
  if (m) {
    const [, field, not] = m;
    return not ? (r) => r[field!] !== undefined && r[field!] !== null && r[field!] !== "" : (r) => r[field!] === undefined || r[field!] === null || r[field!] === "";
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
  return x.localeCompare(y);
}

/** Runs a COQL query against a module's records. */
export function runCoql(query: string, moduleOf: (name: string) => Map<string, Record_> | null): { rows: Record_[]; more: boolean } | { error: CoqlError } {
  const m = QUERY.exec(query);
  if (!m) return syntax("the query is not valid COQL");
  const [, fieldList, moduleName, where, orderBy, direction, first, second] = m;
  const store = moduleOf(moduleName!);
  if (!store) return { error: { code: "INVALID_QUERY", message: "invalid module", details: { module: moduleName } } };
  const fields = fieldList!.split(",").map((f) => f.trim());
  if (!fields.length || fields.length > 50) return syntax("select between 1 and 50 fields");

  let filter: Condition = () => true;
  if (where) {
    const { parts, ops } = splitLogical(stripOuter(where));
    if (parts.length > 25) return syntax("at most 25 criteria in WHERE");
    const conditions = parts.map((p) => parseCondition(stripOuter(p)));
    if (conditions.some((c) => c === null)) return syntax("unsupported condition in where");
    const cs = conditions as Condition[];
    filter = (r) => {
      let result = cs[0]!(r);
      for (let i = 0; i < ops.length; i++) result = ops[i] === "and" ? result && cs[i + 1]!(r) : result || cs[i + 1]!(r);
      return result;
    };
  }
  const offset = second !== undefined ? Number(first) : 0;
  const limit = second !== undefined ? Number(second) : first !== undefined ? Number(first) : 200;
  if (limit > MAX_LIMIT) return { error: { code: "LIMIT_EXCEEDED", message: `limit must be at most ${MAX_LIMIT}`, details: { limit: MAX_LIMIT } } };
  if (offset + limit > MAX_OFFSET) return { error: { code: "LIMIT_EXCEEDED", message: "at most 100,000 rows can be read with COQL", details: {} } };

  let rows = [...store.values()].filter(filter);
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
