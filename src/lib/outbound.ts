/**
 * The outbound URL guard, for every URL a tenant supplies (an `after` handler today):
 * https only, no credentials in the URL, and no host that names this side of the network —
 * literal private, loopback, link-local, unique-local, multicast and reserved addresses
 * (IPv4 in any of the forms the URL parser accepts: dotted, decimal, octal, hex, short;
 * IPv6 including IPv4-mapped, IPv4-compatible, NAT64 and 6to4 forms of such addresses)
 * and local names (`localhost`, `*.local`, `*.internal`, `*.home.arpa`, single labels).
 * A Worker cannot resolve a name before it connects, so a public name that resolves to a
 * private address is not caught here: Cloudflare's own `fetch` refuses to connect a Worker
 * to private, loopback and link-local addresses (docs/handlers.md). Requests follow no
 * redirect.
 *
 * Hosts on OUTBOUND_ALLOWLIST (`host` or `host:port`) may use http and private addresses,
 * for development and tests.
 */

export interface AllowedHost {
  /** As `URL.hostname` writes it: lower case, IPv6 in brackets. */
  host: string;
  /** Null: any port. */
  port: string | null;
}

/** Parses OUTBOUND_ALLOWLIST; a malformed entry throws with what is wrong. */
export function parseAllowlist(raw: string | undefined): AllowedHost[] {
  if (!raw?.trim()) return [];
  return raw
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      let url: URL;
      try {
        url = new URL(`http://${entry}`);
      } catch {
        throw new Error(`OUTBOUND_ALLOWLIST: ${entry} is not a host or host:port`);
      }
      if (url.pathname !== "/" || url.search || url.username) throw new Error(`OUTBOUND_ALLOWLIST: ${entry} is not a host or host:port`);
      return { host: url.hostname, port: /:\d+$/.test(entry) ? url.port || "80" : null };
    });
}

function allowed(url: URL, allow: readonly AllowedHost[]): boolean {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return allow.some((a) => a.host === url.hostname && (a.port === null || a.port === port));
}

const LOCAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".lan"];

/** Why the hub will not send to this URL, or null. */
export function outboundUrlProblem(raw: string, allow: readonly AllowedHost[] = []): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Not a URL.";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "Must be an https URL.";
  if (url.username || url.password) return "Must not carry credentials.";
  if (allowed(url, allow)) return null;
  if (url.protocol !== "https:") return "Must be an https URL.";
  const host = url.hostname.replace(/\.+$/, "");
  if (host.startsWith("[")) {
    const groups = ipv6Groups(host.slice(1, -1));
    if (!groups) return "Not a valid IPv6 address.";
    const why = ipv6Problem(groups);
    return why ? `Must not be ${why} address.` : null;
  }
  const v4 = ipv4Number(host);
  if (v4 !== null) {
    const why = ipv4Problem(v4);
    return why ? `Must not be ${why} address.` : null;
  }
  if (host === "localhost" || LOCAL_SUFFIXES.some((s) => host.endsWith(s)) || !host.includes(".")) return "Must not be a local or internal host name.";
  return null;
}

/** A dotted IPv4 address (the URL parser has already turned decimal, octal and hex forms into it) as a number, or null. */
function ipv4Number(host: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

/** [network, prefix length, what it is] */
const IPV4_BLOCKED: [number, number, string][] = [
  [0x00000000, 8, "a reserved"],
  [0x0a000000, 8, "a private"],
  [0x64400000, 10, "a shared (carrier-grade NAT)"],
  [0x7f000000, 8, "a loopback"],
  [0xa9fe0000, 16, "a link-local or metadata"],
  [0xac100000, 12, "a private"],
  [0xc0000000, 24, "a reserved"],
  [0xc0000200, 24, "a documentation"],
  [0xc0a80000, 16, "a private"],
  [0xc6120000, 15, "a benchmarking"],
  [0xc6336400, 24, "a documentation"],
  [0xcb007100, 24, "a documentation"],
  [0xe0000000, 4, "a multicast"],
  [0xf0000000, 4, "a reserved"],
];

function ipv4Problem(address: number): string | null {
  for (const [network, bits, what] of IPV4_BLOCKED) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if (((address & mask) >>> 0) === network) return what;
  }
  return null;
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a trailing dotted IPv4 part), or null. */
function ipv6Groups(text: string): number[] | null {
  let tail: number[] = [];
  let rest = text.toLowerCase();
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(rest);
  if (dotted) {
    const v4 = ipv4Number(dotted[1]!);
    if (v4 === null) return null;
    tail = [v4 >>> 16, v4 & 0xffff];
    rest = rest.slice(0, -dotted[1]!.length);
    if (rest.endsWith(":") && !rest.endsWith("::")) rest = rest.slice(0, -1);
  }
  const halves = rest.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const after = halves.length === 2 ? parse(halves[1]!) : [];
  const known = head.length + after.length + tail.length;
  if ([...head, ...after].some(Number.isNaN)) return null;
  if (halves.length === 1 ? known !== 8 : known > 7) return null;
  return [...head, ...new Array<number>(8 - known).fill(0), ...after, ...tail];
}

function ipv6Problem(g: number[]): string | null {
  const embedded = (hi: number, lo: number) => ipv4Problem(((g[hi]! << 16) >>> 0) + g[lo]!);
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 8)) return "an unspecified";
  if (zeros(0, 7) && g[7] === 1) return "a loopback";
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): the IPv4 address decides.
  if (zeros(0, 5) && (g[5] === 0xffff || g[5] === 0)) {
    const why = embedded(6, 7);
    return why ? `${why} (IPv4 in IPv6)` : g[5] === 0 ? "a reserved" : null;
  }
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address too.
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return embedded(6, 7);
  if (g[0] === 0x2002) return embedded(1, 2);
  if ((g[0]! & 0xfe00) === 0xfc00) return "a unique-local";
  if ((g[0]! & 0xffc0) === 0xfe80) return "a link-local";
  if ((g[0]! & 0xffc0) === 0xfec0) return "a site-local";
  if ((g[0]! & 0xff00) === 0xff00) return "a multicast";
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "a documentation";
  if (g[0] === 0x0100 && zeros(1, 4)) return "a discard";
  return null;
}

/**
 * Sends a request to a tenant-supplied URL: checked by the guard first, no redirect
 * followed (a 3xx is an answer like any other), given up after `timeoutMs`.
 */
export async function outboundFetch(url: string, init: RequestInit, opts: { allow: readonly AllowedHost[]; timeoutMs: number }): Promise<Response> {
  const problem = outboundUrlProblem(url, opts.allow);
  if (problem) throw new OutboundRefused(problem);
  return fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(opts.timeoutMs) });
}

export class OutboundRefused extends Error {}
