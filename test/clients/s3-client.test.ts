import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { beforeAll, describe, expect, inject, it } from "vitest";

// The AWS SDK's own S3 client, unmodified, against the emulator's S3-compatible store:
// the calls a customer's tool makes to drop files in their pickup location, and the ones
// the hub makes to list, read, file away and report. If the SDK can do these, and is
// refused with a wrong key, the emulator signs and answers as S3 does.

const EMU = inject("emulatorUrl");
const BUCKET = "sdk-pickup";
const KEYS = { accessKeyId: "AKIAEMULATORSDK", secretAccessKey: "sdk-secret-key/with+chars" };

function client(credentials = KEYS) {
  return new S3Client({
    endpoint: `${EMU}/s3`,
    region: "auto",
    forcePathStyle: true,
    credentials,
    // The emulator takes plain, whole bodies (no aws-chunked trailers).
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

beforeAll(async () => {
  const res = await fetch(`${EMU}/_emulator/s3/${BUCKET}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...KEYS, maxKeys: 2 }) });
  expect(res.status).toBe(200);
});

describe("the S3 emulator with the AWS SDK's S3Client", () => {
  it("puts, lists page by page, reads, copies and deletes, with keys that need encoding", async () => {
    const s3 = client();
    const names = ["hr/people.csv", "hr/späti & co.csv", "hr/b+c (1).csv"];
    for (const Key of names) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: `Email\n${Key.length}@x.example\n`, ContentType: "text/csv" }));
    const listed: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "hr/", ContinuationToken: token }));
      listed.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      pages++;
    } while (token);
    expect(listed.sort()).toEqual([...names].sort());
    expect(pages).toBe(2);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "hr/späti & co.csv" }));
    expect(await got.Body!.transformToString()).toBe(`Email\n${"hr/späti & co.csv".length}@x.example\n`);
    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, CopySource: `${BUCKET}/${encodeURIComponent("hr/b+c (1).csv")}`, Key: "hr/done/b+c (1).csv" }));
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "hr/b+c (1).csv" }));
    const after = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "hr/done/" }));
    expect((after.Contents ?? []).map((o) => o.Key)).toEqual(["hr/done/b+c (1).csv"]);
  });

  it("refuses a wrong secret and an unknown key as S3 does", async () => {
    const wrongSecret = client({ ...KEYS, secretAccessKey: "not-the-secret" });
    await expect(wrongSecret.send(new ListObjectsV2Command({ Bucket: BUCKET }))).rejects.toMatchObject({ name: "SignatureDoesNotMatch", $metadata: { httpStatusCode: 403 } });
    const unknown = client({ accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x" });
    const err = await unknown.send(new GetObjectCommand({ Bucket: BUCKET, Key: "hr/people.csv" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3ServiceException);
    expect((err as S3ServiceException).name).toBe("InvalidAccessKeyId");
  });
});

describe("the hub's S3 calls (src/lib/s3.ts) on files the AWS SDK put", () => {
  it("lists every page, reads, writes a report and moves a file, and the SDK sees the result", async () => {
    const { S3Bucket } = await import("../../src/lib/s3");
    const sdk = client();
    const host = new URL(EMU).host;
    const hub = new S3Bucket({ endpoint: `${EMU}/s3`, region: "auto", bucket: BUCKET, ...KEYS }, [{ host: host.split(":")[0]!, port: host.split(":")[1] ?? null }]);
    for (const Key of ["drop/a.csv", "drop/b c.csv", "drop/ü.csv"]) await sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: "Email\nx@y.example\n", ContentType: "text/csv" }));
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await hub.list("drop/", token);
      keys.push(...page.objects.map((o) => o.key));
      token = page.next ?? undefined;
    } while (token);
    expect(keys.sort()).toEqual(["drop/a.csv", "drop/b c.csv", "drop/ü.csv"]);
    const body = await new Response(await hub.get("drop/b c.csv")).text();
    expect(body).toBe("Email\nx@y.example\n");
    await hub.put("drop/done/b c.csv.report.json", JSON.stringify({ status: "applied" }), "application/json");
    expect(await hub.copy("drop/b c.csv", "drop/done/b c.csv", null)).toBe(true);
    // A copy that names another version of the file does not happen.
    expect(await hub.copy("drop/a.csv", "drop/done/a.csv", "0".repeat(32))).toBe(false);
    await hub.delete("drop/b c.csv");
    const left = await sdk.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "drop/", MaxKeys: 1000 }));
    const all: string[] = (left.Contents ?? []).map((o) => o.Key!);
    for (let t = left.NextContinuationToken; t; ) {
      const more = await sdk.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "drop/", ContinuationToken: t }));
      all.push(...(more.Contents ?? []).map((o) => o.Key!));
      t = more.IsTruncated ? more.NextContinuationToken : undefined;
    }
    expect(all.sort()).toEqual(["drop/a.csv", "drop/done/b c.csv", "drop/done/b c.csv.report.json", "drop/ü.csv"]);
    const report = await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: "drop/done/b c.csv.report.json" }));
    expect(JSON.parse(await report.Body!.transformToString())).toEqual({ status: "applied" });
  });
});
