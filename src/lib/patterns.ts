import { RE2JS } from "re2js";

/**
 * Tenants' regular expressions (scope `matches`, JSONata's regex literals) run in the
 * shared consumers beside every other tenant's work, so they run in linear time: RE2's
 * engine (re2js) rather than the JavaScript one, whose backtracking takes hours on a
 * pattern such as `^(a+)+$`. RE2 has no backreferences and no lookaround; a pattern that
 * uses them is refused when it is saved (`patternProblem`).
 */

const compiled = new Map<string, RE2JS>();

function flagsOf(flags: string): number {
  let out = 0;
  if (flags.includes("i")) out |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes("m")) out |= RE2JS.MULTILINE;
  if (flags.includes("s")) out |= RE2JS.DOTALL;
  return out;
}

/** The pattern compiled once per isolate; throws when RE2 cannot run it. */
function re2(source: string, flags: string): RE2JS {
  const key = `${flags}/${source}`;
  let re = compiled.get(key);
  if (!re) {
    re = RE2JS.compile(source, flagsOf(flags));
    if (compiled.size > 1000) compiled.clear();
    compiled.set(key, re);
  }
  return re;
}

/** Why RE2 cannot run the pattern (not valid, or a backreference or lookaround), or null. */
export function patternProblem(source: string, flags = ""): string | null {
  try {
    re2(source, flags);
    return null;
  } catch (err) {
    return `Not a regular expression the hub can run in linear time (RE2 syntax: no backreferences or lookaround): ${(err as Error).message ?? "syntax error"}.`;
  }
}

/** Whether the pattern matches somewhere in `text`, in linear time. */
export function patternTest(source: string, text: string): boolean {
  return re2(source, "").matcher(text).find();
}

/** A match as `RegExp.prototype.exec` answers it: the groups, with `index`. */
type ExecResult = (string | undefined)[] & { index: number; input: string };

/**
 * The part of `RegExp` that JSONata's `RegexEngine` option uses (`lastIndex`, `exec`;
 * JSONata always adds the `g` flag), over RE2. Offsets are UTF-16, like JavaScript's.
 */
export class LinearRegExp {
  lastIndex = 0;
  readonly source: string;
  readonly flags: string;
  readonly global = true;
  readonly #re: RE2JS;

  constructor(pattern: RegExp | string, flags?: string) {
    this.source = typeof pattern === "string" ? pattern : pattern.source;
    this.flags = typeof pattern === "string" ? (flags ?? "") : pattern.flags;
    this.#re = re2(this.source, this.flags);
  }

  exec(text: string): ExecResult | null {
    if (this.lastIndex > text.length) {
      this.lastIndex = 0;
      return null;
    }
    const m = this.#re.matcher(text);
    if (!m.find(this.lastIndex)) {
      this.lastIndex = 0;
      return null;
    }
    const groups: (string | undefined)[] = [];
    for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g) ?? undefined);
    const start = m.start();
    const end = m.end();
    // As JavaScript does for a global regex: an empty match moves on by one, or it would repeat.
    this.lastIndex = end === start ? end + 1 : end;
    return Object.assign(groups, { index: start, input: text });
  }

  test(text: string): boolean {
    return this.exec(text) !== null;
  }
}
