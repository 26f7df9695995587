import type { ImportLocationRow } from "../db/imports.repo";
import type { Env } from "../env";
import { decrypt, encrypt } from "../lib/crypto";
import { S3Bucket } from "../lib/s3";
import { settings } from "../settings";

/** The associated data of a location's sealed secret: it opens for this tenant's location only. */
function aad(tenantId: string): string {
  return `import_locations:${tenantId}`;
}

export function sealLocationSecret(env: Env, tenantId: string, secret: string): Promise<string> {
  return encrypt(env.ENCRYPTION_KEY, secret, aad(tenantId));
}

/** The tenant's bucket, with its secret opened for this call only. */
export async function openLocation(env: Env, row: ImportLocationRow): Promise<S3Bucket> {
  const secretAccessKey = await decrypt(env.ENCRYPTION_KEY, row.secret, aad(row.tenantId));
  return new S3Bucket({ endpoint: row.endpoint, region: row.region, bucket: row.bucket, accessKeyId: row.accessKeyId, secretAccessKey }, settings(env).outboundAllowlist);
}
