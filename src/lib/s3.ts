import { withoutTrailingSlash } from "./url";
import { AwsClient } from "aws4fetch";
import { XMLParser } from "fast-xml-parser";
import * as v from "valibot";
import { outboundFetch, type AllowedHost } from "./outbound";

/**
 * A tenant's own S3-compatible bucket (their R2, S3 or MinIO): the few calls scheduled
 * pickup needs, path-style (`{endpoint}/{bucket}/{key}`), signed with Signature V4 by
 * aws4fetch, sent through the outbound guard (no private addresses, no redirects).
 */
export interface S3Location {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** An object as a listing names it. */
export interface S3Object {
  key: string;
  etag: string;
  size: number;
  lastModified: string;
}

/** What the bucket answered when it refused or failed a call: S3's error code and message. */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The bucket refused the credentials or the access: an admin must change the location. */
  get refused(): boolean {
    return this.status === 401 || this.status === 403 || this.code === "NoSuchBucket";
  }
}

/** A call's time limit; a download streams the whole file within it. */
const TIMEOUT_MS = 30_000;
const DOWNLOAD_TIMEOUT_MS = 15 * 60_000;
const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, isArray: (name) => name === "Contents" });

const ListResult = v.object({
  ListBucketResult: v.object({
    IsTruncated: v.optional(v.string()),
    NextContinuationToken: v.optional(v.string()),
    Contents: v.optional(v.array(v.object({ Key: v.string(), ETag: v.optional(v.string(), ""), Size: v.optional(v.string(), "0"), LastModified: v.optional(v.string(), "") }))),
  }),
});
const ErrorResult = v.object({ Error: v.object({ Code: v.optional(v.string(), "Unknown"), Message: v.optional(v.string(), "") }) });

/** RFC 3986 encoding of each path segment of a key, as S3 signs it. */
function keyPath(key: string): string {
  return key
    .split("/")
    .map((part) => encodeURIComponent(part).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/");
}

export class S3Bucket {
  readonly #aws: AwsClient;
  readonly #base: string;
  readonly #bucket: string;
  readonly #allow: readonly AllowedHost[];

  /** The location's secret goes into the signer only: nothing of this object shows it. */
  constructor(location: S3Location, allow: readonly AllowedHost[]) {
    this.#aws = new AwsClient({ accessKeyId: location.accessKeyId, secretAccessKey: location.secretAccessKey, service: "s3", region: location.region || "auto" });
    this.#base = `${withoutTrailingSlash(location.endpoint)}/${location.bucket}`;
    this.#bucket = location.bucket;
    this.#allow = allow;
  }

  async #call(method: string, path: string, init: { headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<Response> {
    const signed = await this.#aws.sign(`${this.#base}${path}`, { method, headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) });
    const res = await outboundFetch(signed.url, { method, headers: signed.headers, ...(init.body !== undefined ? { body: init.body } : {}) }, { allow: this.#allow, timeoutMs: init.timeoutMs ?? TIMEOUT_MS });
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    const parsed = v.safeParse(ErrorResult, text ? parser.parse(text) : {});
    const code = parsed.success ? parsed.output.Error.Code : `HTTP ${res.status}`;
    const message = parsed.success && parsed.output.Error.Message ? parsed.output.Error.Message : res.statusText;
    throw new S3Error(res.status, code, `${code}: ${message}`);
  }

  /**
   * One page of the keys directly under `prefix` (ListObjectsV2 with `delimiter=/`: what is
   * in folders under it, `done/` and `failed/` among them, is not listed), and the token
   * of the next page.
   */
  async list(prefix: string, token?: string): Promise<{ objects: S3Object[]; next: string | null }> {
    const query = new URLSearchParams({ "list-type": "2", prefix, delimiter: "/", ...(token ? { "continuation-token": token } : {}) });
    const res = await this.#call("GET", `?${query}`);
    const parsed = v.parse(ListResult, parser.parse(await res.text())).ListBucketResult;
    const objects = (parsed.Contents ?? []).map((o) => ({ key: o.Key, etag: o.ETag.replace(/"/g, ""), size: Number(o.Size), lastModified: o.LastModified }));
    return { objects, next: parsed.IsTruncated === "true" && parsed.NextContinuationToken ? parsed.NextContinuationToken : null };
  }

  /** The object's body, streamed. */
  async get(key: string): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#call("GET", `/${keyPath(key)}`, { timeoutMs: DOWNLOAD_TIMEOUT_MS });
    if (!res.body) throw new S3Error(502, "EmptyBody", `${key} answered no body.`);
    return res.body;
  }

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.#call("PUT", `/${keyPath(key)}`, { headers: { "content-type": contentType }, body });
  }

  /**
   * Copies an object within the bucket (CopyObject), only while it is still the version
   * `etag` names (`x-amz-copy-source-if-match`). False when it is not (412): a newer
   * version is there. S3 can answer 200 with an `<Error>` body: that is a failure too.
   */
  async copy(from: string, to: string, etag: string | null): Promise<boolean> {
    let res: Response;
    try {
      res = await this.#call("PUT", `/${keyPath(to)}`, { headers: { "x-amz-copy-source": `/${this.#bucket}/${keyPath(from)}`, ...(etag ? { "x-amz-copy-source-if-match": `"${etag}"` } : {}) } });
    } catch (err) {
      if (err instanceof S3Error && err.status === 412) return false;
      throw err;
    }
    const text = await res.text();
    if (!text.includes("CopyObjectResult")) {
      const parsed = v.safeParse(ErrorResult, text ? parser.parse(text) : {});
      throw new S3Error(500, parsed.success ? parsed.output.Error.Code : "CopyFailed", `The copy of ${from} failed: ${parsed.success ? parsed.output.Error.Message : "no CopyObjectResult"}`);
    }
    return true;
  }

  async delete(key: string): Promise<void> {
    await this.#call("DELETE", `/${keyPath(key)}`);
  }

}
