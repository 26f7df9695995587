/**
 * Keys that JavaScript gives a meaning of their own. valibot's records leave them out
 * without a word (so an attribute named `prototype` would vanish from what is stored), and
 * code that copies objects key by key could be led to change a prototype. The hub refuses
 * them in every JSON body it takes (422), rather than drop them silently.
 */
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export function isUnsafeKey(key: string): boolean {
  return UNSAFE_KEYS.has(key);
}

/** The path (`a.b.0.c`) of the first unsafe key in a parsed JSON value, or null. Any depth: it walks without recursion. */
export function unsafeKeyPath(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, ""]];
  while (stack.length) {
    const [item, path] = stack.pop()!;
    if (item === null || typeof item !== "object") continue;
    const entries = Array.isArray(item) ? item.map((x, i) => [String(i), x] as const) : Object.entries(item);
    for (const [key, child] of entries) {
      const at = path ? `${path}.${key}` : key;
      if (!Array.isArray(item) && isUnsafeKey(key)) return at;
      stack.push([child, at]);
    }
  }
  return null;
}

/** The field error for an unsafe key at `path`. */
export function unsafeKeyError(path: string) {
  return { path, message: "__proto__, constructor and prototype are not allowed as names." };
}
