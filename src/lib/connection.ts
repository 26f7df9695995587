import * as v from "valibot";

/**
 * Facts of an OAuth connection, shown in the API; nothing secret. Declared once: the
 * connectors produce it, db/ checks it when reading the `connection` column, and the
 * type is inferred from it.
 */
export const ConnectionShape = v.object({
  /** Zoho: the accounts server of the account's data centre. */
  accountsServer: v.nullable(v.string()),
  /** Where API calls go: Zoho's `api_domain`, Graph's base URL. */
  apiDomain: v.string(),
  /** Zoho: the data centre id (`us`, `eu`, …). */
  dataCenter: v.nullable(v.string()),
  /** Microsoft: the directory (tenant) id. */
  directoryId: v.nullable(v.string()),
  scopes: v.array(v.string()),
  connectedAt: v.string(),
  /** Zoho CRM: the organisation id, for record URLs; learnt at connect or on first use. */
  orgId: v.optional(v.string()),
  /** Who consented: the account's e-mail, and the organisation's name, shown wherever the connection is. */
  accountEmail: v.optional(v.nullable(v.string())),
  orgName: v.optional(v.nullable(v.string())),
});

export type Connection = v.InferOutput<typeof ConnectionShape>;
