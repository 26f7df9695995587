import type { Env } from "../env";
import type { ProviderConfig } from "../lib/config";
import { PROVIDER_IDS, type Connector, type ProviderId } from "./contract";
import { microsoft365 } from "./microsoft-365";
import { zohoConnect } from "./zoho-connect";
import { zohoCrm } from "./zoho-crm";
import { zohoPeople } from "./zoho-people";

export { handlingOf, ProviderError, ReauthRequired, type ProviderErrorKind } from "./errors";
export { PROVIDER_IDS, type Connection, type Connector, type ProviderId, type PushConnector, type RemoteRecord, type RecordOutcome, type TokenSet } from "./contract";

/** Every provider: one folder each, one line here. */
export const CONNECTORS = {
  "zoho-crm": zohoCrm,
  "zoho-connect": zohoConnect,
  "zoho-people": zohoPeople,
  "microsoft-365": microsoft365,
} satisfies Record<ProviderId, Connector>;

export function isProviderId(id: string): id is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(id);
}

/** The connector of a provider id stored in D1; a stored id that is not one is a bug. */
export function connector(id: string): Connector {
  if (!isProviderId(id)) throw new Error(`unknown provider ${id}`);
  return CONNECTORS[id];
}

/** The scopes a connect asks for: what the config needs, and what names the account. */
export function connectScopes(c: Connector, config: ProviderConfig): string[] {
  return [...c.config.scopes(config), ...(c.oauth.account?.scopes ?? [])];
}

/** Every provider's settings problems, each named once. */
export function providerSettingsProblems(env: Env): string[] {
  return [...new Set(PROVIDER_IDS.flatMap((id) => connector(id).settingsProblems?.(env) ?? []))];
}
