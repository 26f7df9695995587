const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case

/** A random string of `length` base32 characters (5 bits of entropy each). */
export function randomToken(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

export type IdPrefix = "ten" | "key" | "int" | "run" | "imp" | "evt" | "log" | "jr";

/** An opaque id with a type prefix, e.g. `ten_4k9…` (API.md: ids carry their type). */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomToken(20)}`;
}
