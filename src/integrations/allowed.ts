import * as v from "valibot";
import { PROVIDER_IDS, type ProviderId } from "../connectors";
import type { Db } from "../db/client";
import { findTenant } from "../db/tenants.repo";
import { AppError } from "../lib/errors";

/**
 * Which providers a tenant may enable: the operator's choice (`PATCH /v1/tenants/{id}`),
 * all of them until the operator chooses, as vendors enable an integration per customer.
 * Integrations a tenant already runs keep working when their provider is taken away;
 * creating one, connecting one and making one active (activating, or the last pending
 * action done) need the provider allowed.
 */
const Stored = v.array(v.string());

export function allowedProviders(tenant: { providers: string | null }): readonly ProviderId[] {
  if (tenant.providers === null) return PROVIDER_IDS;
  const stored = v.parse(Stored, JSON.parse(tenant.providers));
  // In the hub's order; a provider this version no longer has is simply not offered.
  return PROVIDER_IDS.filter((id) => stored.includes(id));
}

/** 403 unless the tenant may enable the provider. */
export function assertProviderAllowed(tenant: { providers: string | null }, provider: string, name: string): void {
  if (!allowedProviders(tenant).some((id) => id === provider)) {
    throw new AppError("forbidden", `${name} is not enabled for this organisation: ask the hub's operator to enable it.`);
  }
}

/** 403 unless the integration's tenant may (still) enable its provider: before connecting it, or making it active. */
export async function assertIntegrationAllowed(db: Db, integration: { tenantId: string; provider: string }, name: string): Promise<void> {
  const tenant = await findTenant(db, integration.tenantId);
  if (tenant) assertProviderAllowed(tenant, integration.provider, name);
}
