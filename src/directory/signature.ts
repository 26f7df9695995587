import { fromBase64, utf8 } from "../lib/encoding";

// Standard Webhooks (standardwebhooks.com, spec "Signature scheme"): the signed content is
// `${webhook-id}.${webhook-timestamp}.${raw body}`, HMAC-SHA256 with the base64-decoded
// part of the secret after `whsec_`; the header holds space-separated `v1,<base64>`.

/** API.md: the timestamp must be within ±5 minutes of our clock. */
export const TIMESTAMP_TOLERANCE_S = 5 * 60;

const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    const raw = fromBase64(secret.startsWith("whsec_") ? secret.slice(6) : secret);
    key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    if (keys.size > 1000) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

async function mac(secret: string, id: string, timestamp: string, body: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), utf8(`${id}.${timestamp}.${body}`)));
}

export type VerifyOutcome = "ok" | "missing_headers" | "bad_timestamp" | "bad_signature";

/**
 * Verifies a delivery against every currently valid secret (so a rotated secret keeps
 * working through its grace period). Comparison is constant-time over the MAC bytes.
 */
export async function verifyWebhook(
  secrets: readonly string[],
  headers: { id?: string | null; timestamp?: string | null; signature?: string | null },
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<VerifyOutcome> {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) return "missing_headers";
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > TIMESTAMP_TOLERANCE_S) return "bad_timestamp";
  const candidates: Uint8Array[] = [];
  for (const part of signature.split(" ")) {
    const [version, b64] = part.split(",", 2);
    if (version !== "v1" || !b64) continue;
    try {
      const bytes = fromBase64(b64);
      if (bytes.length === 32) candidates.push(bytes);
    } catch {
      // not base64: cannot match
    }
  }
  for (const secret of secrets) {
    const expected = await mac(secret, id, timestamp, body);
    for (const candidate of candidates) {
      if (crypto.subtle.timingSafeEqual(expected, candidate)) return "ok";
    }
  }
  return "bad_signature";
}
