/**
 * Writes an R2 object of any size in multipart parts while holding at most one part in
 * memory. R2 wants every part but the last to be the same size, so the bytes are cut into
 * parts of exactly PART_BYTES, whatever the sizes of the chunks written.
 */
export const PART_BYTES = 5 * 1024 * 1024;

export class R2PartWriter {
  private readonly parts: R2UploadedPart[] = [];
  private part = new Uint8Array(PART_BYTES);
  private filled = 0;

  private constructor(private readonly upload: R2MultipartUpload) {}

  static async open(bucket: R2Bucket, key: string, options?: R2MultipartOptions): Promise<R2PartWriter> {
    return new R2PartWriter(await bucket.createMultipartUpload(key, options));
  }

  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.byteLength) {
      const take = Math.min(PART_BYTES - this.filled, bytes.byteLength - at);
      this.part.set(bytes.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === PART_BYTES) {
        this.parts.push(await this.upload.uploadPart(this.parts.length + 1, this.part));
        this.part = new Uint8Array(PART_BYTES);
        this.filled = 0;
      }
    }
  }

  /** Uploads the last part (possibly empty, so that an empty object still exists) and completes the object. */
  async complete(): Promise<void> {
    if (this.filled > 0 || this.parts.length === 0) this.parts.push(await this.upload.uploadPart(this.parts.length + 1, this.part.subarray(0, this.filled)));
    await this.upload.complete(this.parts);
  }

  abort(): Promise<void> {
    return this.upload.abort();
  }
}
