import * as v from "valibot";
import { provider } from "../connectors";
import type { Db } from "../db/client";
import { getIntegrationRecord, insertIntegration as insertRecord, listIntegrationRecords, parseIntegrationRow, type IntegrationRecord } from "../db/integrations.repo";
import type { IntegrationRow } from "../db/schema";
import { IntegrationConfig, mergeConfig, type ResolvedConfig } from "./config";

/** An integration as the hub works with it: its stored config over the provider's current defaults. */
export interface Integration extends Omit<IntegrationRecord, "config"> {
  config: ResolvedConfig;
}

/** The stored config, checked, goes over the provider's current defaults. */
export function fromRecord(record: IntegrationRecord): Integration {
  return { ...record, config: mergeConfig(provider(record.provider).defaults, v.parse(IntegrationConfig, record.config)) };
}

/** A row read with a query of its own (the schedule's scans), as an integration. */
export function parseIntegration(row: IntegrationRow): Integration {
  return fromRecord(parseIntegrationRow(row));
}

/** One integration of a tenant, or null (another tenant's id is simply not found). */
export async function getIntegration(db: Db, tenantId: string, id: string): Promise<Integration | null> {
  const record = await getIntegrationRecord(db, tenantId, id);
  return record ? fromRecord(record) : null;
}

export async function listIntegrations(db: Db, tenantId: string, after: string | null, limit: number): Promise<Integration[]> {
  return (await listIntegrationRecords(db, tenantId, after, limit)).map(fromRecord);
}

export async function insertIntegration(db: Db, input: { tenantId: string; provider: string; name: string; config: ResolvedConfig; pendingActions: string[] }): Promise<Integration> {
  return fromRecord(await insertRecord(db, input));
}
