import { fromBase64, toBase64, toBase64Url, utf8 } from "./encoding";

/** Hex SHA-256 of a string: how API keys are stored (they carry 160 random bits). */
export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", utf8(value));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison of two strings (lengths are compared through their digests). */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", utf8(a)),
    crypto.subtle.digest("SHA-256", utf8(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/** `prefix` followed by 32 random bytes in base64url: API keys, webhook and SSO secrets. */
export function newSecret(prefix: string): string {
  return prefix + toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

const keyCache = new Map<string, Promise<CryptoKey>>();

function aesKey(encryptionKey: string): Promise<CryptoKey> {
  let key = keyCache.get(encryptionKey);
  if (!key) {
    const raw = fromBase64(encryptionKey);
    if (raw.length !== 32) throw new Error("ENCRYPTION_KEY must be base64 of 32 bytes");
    key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    keyCache.set(encryptionKey, key);
  }
  return key;
}

/**
 * AES-256-GCM with a random 96-bit IV per value (NIST SP 800-38D). The output is
 * `v1.<iv b64>.<ciphertext b64>`; `aad` binds the value to its row so that a ciphertext
 * copied to another row does not decrypt.
 */
export async function encrypt(encryptionKey: string, plaintext: string, aad: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8(aad) },
    await aesKey(encryptionKey),
    utf8(plaintext),
  );
  return `v1.${toBase64(iv)}.${toBase64(new Uint8Array(ct))}`;
}

/** Inverse of `encrypt`; throws when the value was tampered with or the key/aad differ. */
export async function decrypt(encryptionKey: string, sealed: string, aad: string): Promise<string> {
  const [version, iv, ct] = sealed.split(".");
  if (version !== "v1" || !iv || !ct) throw new Error("unknown ciphertext format");
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(iv), additionalData: utf8(aad) },
    await aesKey(encryptionKey),
    fromBase64(ct),
  );
  return new TextDecoder().decode(pt);
}

/** HMAC-SHA256 of `message` under `key`, base64url: for tokens derived from a secret. */
export async function hmacBase64Url(key: string, message: string): Promise<string> {
  const k = await crypto.subtle.importKey("raw", utf8(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", k, utf8(message))));
}
