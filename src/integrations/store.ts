import * as v from "valibot";
import { connector } from "../connectors";
import type { Db } from "../db/client";
import { getIntegrationRecord, insertIntegration as insertRecord, listIntegrationRecords, type IntegrationRecord } from "../db/integrations.repo";
import { mergeConfig, type ResolvedConfig } from "../lib/config";
import { configSchemaOf, defaultConfig } from "./config";

/** An integration as the hub works with it: its stored config over the provider's current defaults. */
export interface Integration extends Omit<IntegrationRecord, "config"> {
  config: ResolvedConfig;
}

/** The stored config, checked, goes over the provider's current defaults. */
export function fromRecord(record: IntegrationRecord): Integration {
  const c = connector(record.provider);
  return { ...record, config: mergeConfig(defaultConfig(c), v.parse(configSchemaOf(c), record.config)) };
}

/** One integration of a tenant, or null (another tenant's id is simply not found). */
export async function getIntegration(db: Db, tenantId: string, id: string): Promise<Integration | null> {
  const record = await getIntegrationRecord(db, tenantId, id);
  return record ? fromRecord(record) : null;
}

export async function listIntegrations(db: Db, tenantId: string, after: string | null, limit: number): Promise<Integration[]> {
  return (await listIntegrationRecords(db, tenantId, after, limit)).map(fromRecord);
}

export async function insertIntegration(db: Db, input: { tenantId: string; provider: string; name: string; config: ResolvedConfig; pendingActions: string[]; receivesPushes: boolean }): Promise<Integration> {
  return fromRecord(await insertRecord(db, input));
}
