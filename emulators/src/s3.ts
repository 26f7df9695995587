import { Hono, type Context } from "hono";

/**
 * An S3-compatible bucket store, path-style under `/s3/{bucket}/{key}`: what a tenant's
 * own pickup location (their R2, S3 or MinIO) answers. The calls the hub and an S3 client
 * make: ListObjectsV2 (`GET /s3/{bucket}?list-type=2`, paged by `max-keys` and
 * `continuation-token`; `delimiter` leaves out what is below it), GetObject, HeadObject,
 * PutObject, CopyObject (`PUT` with `x-amz-copy-source`, and `x-amz-copy-source-if-match`)
 * and DeleteObject. Every request must be signed with Signature V4
 * (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html) by the bucket's
 * access key: a wrong key is 403 `InvalidAccessKeyId`, a wrong signature 403
 * `SignatureDoesNotMatch`, a payload whose hash is not the signed one 400
 * `XAmzContentSHA256Mismatch`. Not emulated: aws-chunked uploads, multipart, versions.
 */

interface StoredObject {
  body: Uint8Array;
  etag: string;
  lastModified: Date;
  contentType: string;
}

interface Bucket {
  accessKeyId: string;
  secretAccessKey: string;
  /** The most keys one listing answers (S3: 1,000). */
  maxKeys: number;
  objects: Map<string, StoredObject>;
}

const buckets = new Map<string, Bucket>();
const encoder = new TextEncoder();

function xml(c: Context, status: number, body: string) {
  return c.body(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`, status as 200, { "content-type": "application/xml" });
}

function s3Error(c: Context, status: number, code: string, message: string) {
  return xml(c, status, `<Error><Code>${code}</Code><Message>${esc(message)}</Message></Error>`);
}

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(data: Uint8Array | string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", typeof data === "string" ? encoder.encode(data) : data));
}

async function hmac(key: ArrayBuffer | Uint8Array, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, encoder.encode(data));
}

/** RFC 3986 encoding, as Signature V4 wants it for query names and values. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Checks the request's Signature V4 against the bucket's key; answers the refusal, or null. */
async function refusal(c: Context, bucket: Bucket, body: Uint8Array): Promise<Response | null> {
  const auth = c.req.header("authorization") ?? "";
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request,\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return s3Error(c, 403, "AccessDenied", "A Signature V4 Authorization header is required.");
  const [, accessKeyId, date, region, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string];
  if (accessKeyId !== bucket.accessKeyId) return s3Error(c, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
  const amzDate = c.req.header("x-amz-date") ?? "";
  const payloadHash = c.req.header("x-amz-content-sha256");
  if (!payloadHash) return s3Error(c, 400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256.");
  if (payloadHash !== "UNSIGNED-PAYLOAD" && payloadHash !== (await sha256(body))) return s3Error(c, 400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
  const url = new URL(c.req.url);
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const names = signedHeaders.split(";");
  const headers = names.map((n) => `${n}:${(c.req.header(n) ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const canonical = [c.req.method, url.pathname, query, headers, signedHeaders, payloadHash].join("\n");
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, await sha256(canonical)].join("\n");
  let key: ArrayBuffer = await hmac(encoder.encode(`AWS4${bucket.secretAccessKey}`), date);
  for (const part of [region, "s3", "aws4_request"]) key = await hmac(key, part);
  if (hex(await hmac(key, toSign)) !== signature) return s3Error(c, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.");
  return null;
}

/** The object key of a request: the path after `/s3/{bucket}/`, decoded. */
function keyOf(c: Context, bucket: string): string {
  const path = new URL(c.req.url).pathname;
  return decodeURIComponent(path.slice(`/s3/${bucket}/`.length));
}

async function stored(body: Uint8Array, contentType: string): Promise<StoredObject> {
  const etag = `"${hex(await crypto.subtle.digest("MD5", body))}"`;
  return { body, etag, lastModified: new Date(), contentType };
}

export const s3 = new Hono();

s3.all("/:bucket/*", async (c) => signed(c, keyOf(c, c.req.param("bucket"))));
s3.all("/:bucket", async (c) => signed(c, null));

async function signed(c: Context, key: string | null): Promise<Response> {
  const name = c.req.param("bucket")!;
  const bucket = buckets.get(name);
  if (!bucket) return s3Error(c, 404, "NoSuchBucket", "The specified bucket does not exist.");
  const body = new Uint8Array(await c.req.arrayBuffer());
  const refused = await refusal(c, bucket, body);
  if (refused) return refused;
  if (key === null || key === "") {
    if (c.req.method !== "GET" || c.req.query("list-type") !== "2") return s3Error(c, 400, "InvalidRequest", "Only ListObjectsV2 is emulated on a bucket.");
    return list(c, name, bucket);
  }
  switch (c.req.method) {
    case "GET":
    case "HEAD": {
      const object = bucket.objects.get(key);
      if (!object) return s3Error(c, 404, "NoSuchKey", "The specified key does not exist.");
      const headers = { "content-type": object.contentType, etag: object.etag, "last-modified": object.lastModified.toUTCString(), "content-length": String(object.body.byteLength) };
      return new Response(c.req.method === "HEAD" ? null : object.body, { status: 200, headers });
    }
    case "PUT": {
      const source = c.req.header("x-amz-copy-source");
      if (source) {
        const decoded = decodeURIComponent(source.replace(/^\//, ""));
        const [fromBucket, ...rest] = decoded.split("/");
        const from = buckets.get(fromBucket ?? "")?.objects.get(rest.join("/"));
        if (!from || fromBucket !== name) return s3Error(c, 404, "NoSuchKey", "The specified copy source does not exist.");
        const ifMatch = c.req.header("x-amz-copy-source-if-match");
        if (ifMatch && ifMatch.replace(/"/g, "") !== from.etag.replace(/"/g, "")) return s3Error(c, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.");
        const copy = { ...from, lastModified: new Date() };
        bucket.objects.set(key, copy);
        return xml(c, 200, `<CopyObjectResult><ETag>${esc(copy.etag)}</ETag><LastModified>${copy.lastModified.toISOString()}</LastModified></CopyObjectResult>`);
      }
      const object = await stored(body, c.req.header("content-type") ?? "application/octet-stream");
      bucket.objects.set(key, object);
      return c.body(null, 200, { etag: object.etag });
    }
    case "DELETE":
      bucket.objects.delete(key);
      return c.body(null, 204);
    default:
      return s3Error(c, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
  }
}

function list(c: Context, name: string, bucket: Bucket): Response {
  const prefix = c.req.query("prefix") ?? "";
  const maxKeys = Math.min(Number(c.req.query("max-keys") ?? bucket.maxKeys) || bucket.maxKeys, bucket.maxKeys);
  const after = c.req.query("continuation-token") ? atob(c.req.query("continuation-token")!) : (c.req.query("start-after") ?? "");
  const delimiter = c.req.query("delimiter") ?? "";
  // With a delimiter, keys below the next one after the prefix roll up into CommonPrefixes (not listed here).
  const keys = [...bucket.objects.keys()].filter((k) => k.startsWith(prefix) && k > after && !(delimiter && k.slice(prefix.length).includes(delimiter))).sort();
  const page = keys.slice(0, maxKeys);
  const truncated = keys.length > page.length;
  const contents = page
    .map((k) => {
      const o = bucket.objects.get(k)!;
      return `<Contents><Key>${esc(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${esc(o.etag)}</ETag><Size>${o.body.byteLength}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    })
    .join("");
  const next = truncated ? `<NextContinuationToken>${esc(btoa(page[page.length - 1]!))}</NextContinuationToken>` : "";
  return xml(
    c,
    200,
    `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${esc(name)}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`,
  );
}

/**
 * The control side (`/_emulator/s3/…`): `PUT /{bucket}` `{ accessKeyId, secretAccessKey, maxKeys? }`
 * makes (or empties) a bucket; `GET /{bucket}` lists its keys; `PUT /{bucket}/object?key=`
 * stores a body as a person's own tool would; `GET /{bucket}/object?key=` reads one.
 */
export const s3Control = new Hono();

s3Control.put("/:bucket", async (c) => {
  const body = (await c.req.json()) as { accessKeyId: string; secretAccessKey: string; maxKeys?: number };
  buckets.set(c.req.param("bucket"), { accessKeyId: body.accessKeyId, secretAccessKey: body.secretAccessKey, maxKeys: body.maxKeys ?? 1000, objects: new Map() });
  return c.json({ bucket: c.req.param("bucket") });
});

s3Control.get("/:bucket", (c) => {
  const bucket = buckets.get(c.req.param("bucket"));
  return bucket ? c.json({ keys: [...bucket.objects.keys()].sort() }) : c.json({ error: "no such bucket" }, 404);
});

s3Control.put("/:bucket/object", async (c) => {
  const bucket = buckets.get(c.req.param("bucket"));
  if (!bucket) return c.json({ error: "no such bucket" }, 404);
  bucket.objects.set(c.req.query("key")!, await stored(new Uint8Array(await c.req.arrayBuffer()), c.req.header("content-type") ?? "text/csv"));
  return c.json({ key: c.req.query("key") }, 201);
});

s3Control.get("/:bucket/object", (c) => {
  const object = buckets.get(c.req.param("bucket"))?.objects.get(c.req.query("key") ?? "");
  return object ? new Response(object.body, { headers: { "content-type": object.contentType, etag: object.etag } }) : c.json({ error: "no such key" }, 404);
});
