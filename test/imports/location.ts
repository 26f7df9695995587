import { expect } from "vitest";
import { call, type TestTenant } from "../helpers";
import { EMU, emu } from "../emulators/helpers";

/** A bucket of the tenant's own at the S3 emulator, with its access key; `maxKeys` pages its listings. */
export async function ownBucket(name = `t-${crypto.randomUUID().slice(0, 8)}`, maxKeys = 1000) {
  const keys = { accessKeyId: `AKIA${name.replace(/[^a-z0-9]/g, "").toUpperCase()}`, secretAccessKey: `secret-${crypto.randomUUID()}` };
  expect((await emu(`/_emulator/s3/${name}`, { method: "PUT", json: { ...keys, maxKeys } })).status).toBe(200);
  return { name, ...keys };
}

/** What the tenant's own tool does: a file put in their bucket. */
export async function drop(bucket: string, key: string, body: BodyInit) {
  expect((await emu(`/_emulator/s3/${bucket}/object?key=${encodeURIComponent(key)}`, { method: "PUT", body })).status).toBe(201);
}

export async function bucketKeys(bucket: string): Promise<string[]> {
  return ((await (await emu(`/_emulator/s3/${bucket}`)).json()) as { keys: string[] }).keys;
}

export async function bucketJson(bucket: string, key: string) {
  const res = await emu(`/_emulator/s3/${bucket}/object?key=${encodeURIComponent(key)}`);
  return res.status === 200 ? ((await res.json()) as Record<string, any>) : null;
}

export async function saveMapping(t: TestTenant, body: Record<string, unknown>) {
  expect((await call("/v1/imports/mapping", { method: "PUT", json: body, token: t.apiKey })).status).toBe(200);
}

/** The tenant's pickup location: their bucket at the emulator, under `prefix`. */
export async function setLocation(t: TestTenant, bucket: { name: string; accessKeyId: string; secretAccessKey: string }, extra: Record<string, unknown> = {}) {
  const res = await call("/v1/imports/location", {
    method: "PUT",
    token: t.apiKey,
    json: { kind: "s3", endpoint: `${EMU}/s3`, bucket: bucket.name, prefix: "hr/", accessKeyId: bucket.accessKeyId, secretAccessKey: bucket.secretAccessKey, ...extra },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Record<string, any>;
}

