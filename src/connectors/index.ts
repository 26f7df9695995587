import type { FieldError } from "../lib/errors";
import type { MappingEntry, ResolvedConfig } from "../integrations/config";
import { microsoftOAuth } from "./microsoft/oauth";
import type { Connection, OAuthContext, OAuthProvider } from "./types";
import type { Env } from "../env";
import { describeZohoCrmAccount } from "./zoho/account";
import { zohoSettingsProblems } from "./zoho/datacenters";
import { zohoOAuth } from "./zoho/oauth";

export { handlingOf, ProviderError, ReauthRequired, type ProviderErrorKind } from "./errors";
export type { Connection, OAuthProvider, TokenSet } from "./types";

export const PROVIDER_IDS = ["zoho-crm", "zoho-connect", "zoho-people", "microsoft-365"] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** What the hub knows of one provider: facts declared once, here. */
export interface ProviderDefinition {
  id: ProviderId;
  name: string;
  direction: "push" | "pull" | "two-way";
  objects: readonly string[];
  oauth: OAuthProvider;
  defaults: ResolvedConfig;
  /** The OAuth scopes an integration with this config needs. */
  scopesFor(config: ResolvedConfig): string[];
  /**
   * Scopes asked at connect only to name the connected account (never a reason to
   * reconnect when an older connection lacks them), and how to name it: e-mail, org.
   */
  account?: {
    scopes: string[];
    describe(ctx: OAuthContext, input: { accessToken: string; connection: Connection }): Promise<Pick<Connection, "accountEmail" | "orgName" | "orgId">>;
  };
  /** A setting the provider needs before it can run, or null. */
  missingConfig(config: ResolvedConfig): string | null;
  /** Config the provider cannot honour, as 422 field errors. */
  configProblems(config: ResolvedConfig): FieldError[];
  /** What is wrong with this provider's settings (for `/healthz` and `npm start`). */
  settingsProblems?(env: Env): string[];
}

const none = () => [];

/** Every integration's base config; the provider's own defaults go on top. */
const BASE: Omit<ResolvedConfig, "object" | "mapping"> = {
  // DESIGN.md: program managers are left out unless the tenant says otherwise.
  scope: { exclude: [{ field: "role", in: ["program_manager"] }] },
  // MyOperator/Zoho: users are matched by exact, case-sensitive e-mail.
  matching: { by: "email", caseSensitive: true },
  onDelete: "ignore",
  onRemoteDelete: "recreate",
  groupRules: [],
  schedule: { resyncMinutes: 15, reconcile: "daily" },
  handlers: {},
  maxDisablePercent: 20,
};

const CRM_MAPPING: MappingEntry[] = [
  { to: "Email", from: "email", required: true },
  { to: "First_Name", from: "firstName" },
  { to: "Last_Name", from: "lastName", required: true },
  { to: "Phone", from: "phone" },
  { to: "Mobile", from: "mobile" },
  { to: "Department", from: "department" },
  { to: "Title", from: "designation" },
];

/** Zoho Connect's member fields the hub manages; profile fields reach Connect through its CSV sync. */
const CONNECT_MAPPING: MappingEntry[] = [{ to: "emailId", from: "email", required: true }];

/** Zoho People → directory: the fields of Zoho's HR → Connect sync (seeds 001). */
const PEOPLE_MAPPING: MappingEntry[] = [
  { to: "email", from: "email", required: true },
  { to: "firstName", from: "firstName" },
  { to: "lastName", from: "lastName" },
  { to: "department", from: "department" },
  { to: "designation", from: "designation" },
  { to: "reportingTo", from: "reportingTo" },
  { to: "workLocation", from: "workLocation" },
  { to: "seatingLocation", from: "seatingLocation" },
  { to: "mobile", from: "mobile" },
  { to: "dateOfBirth", from: "dateOfBirth" },
  { to: "extension", from: "extension" },
  { to: "workPhone", from: "workPhone" },
  { to: "nickname", from: "nickname" },
  { to: "gender", from: "gender" },
];

const MICROSOFT_MAPPING: MappingEntry[] = [
  { to: "mail", from: "email", required: true },
  { to: "givenName", from: "firstName" },
  { to: "surname", from: "lastName" },
  { to: "department", from: "department" },
  { to: "jobTitle", from: "designation" },
  { to: "mobilePhone", from: "mobile" },
  { to: "officeLocation", from: "workLocation" },
];

export const PROVIDERS = {
  "zoho-crm": {
    id: "zoho-crm",
    name: "Zoho CRM",
    direction: "push",
    objects: ["Contacts", "Leads"],
    oauth: zohoOAuth,
    settingsProblems: zohoSettingsProblems,
    defaults: { ...BASE, object: "Contacts", mapping: CRM_MAPPING },
    scopesFor: (config) => [`ZohoCRM.modules.${config.object.toLowerCase()}.ALL`, "ZohoCRM.coql.READ", "ZohoCRM.org.READ", "ZohoCRM.settings.fields.READ"],
    account: { scopes: ["ZohoCRM.users.READ"], describe: describeZohoCrmAccount },
    missingConfig: () => null,
    configProblems: (config) =>
      config.onDelete === "deactivate" ? [{ path: "config.onDelete", message: "Zoho CRM records have no inactive state: use ignore or delete." }] : [],
  },
  "zoho-connect": {
    id: "zoho-connect",
    name: "Zoho Connect",
    direction: "push",
    objects: ["members"],
    oauth: zohoOAuth,
    settingsProblems: zohoSettingsProblems,
    defaults: { ...BASE, object: "members", mapping: CONNECT_MAPPING, groupRules: [{ field: "department" }, { field: "designation" }] },
    scopesFor: () => ["zohopulse.networklist.READ", "zohopulse.networkAdmin.CREATE", "zohopulse.networkAdmin.DELETE", "zohopulse.grouplist.CREATE", "zohopulse.grouplist.DELETE"],
    missingConfig: (config) => (config.networkId ? null : "configure"),
    configProblems: none,
  },
  "zoho-people": {
    id: "zoho-people",
    name: "Zoho People",
    direction: "pull",
    objects: ["employee"],
    oauth: zohoOAuth,
    settingsProblems: zohoSettingsProblems,
    defaults: { ...BASE, object: "employee", mapping: PEOPLE_MAPPING, scope: { exclude: [] } },
    scopesFor: () => ["ZOHOPEOPLE.forms.READ"],
    missingConfig: () => null,
    configProblems: none,
  },
  "microsoft-365": {
    id: "microsoft-365",
    name: "Microsoft 365",
    direction: "two-way",
    objects: ["users", "contacts", "events"],
    oauth: microsoftOAuth,
    defaults: { ...BASE, object: "users", mapping: MICROSOFT_MAPPING, scope: { exclude: [] } },
    scopesFor: (config) => [
      "openid",
      "offline_access",
      "User.Read.All",
      ...(config.object === "contacts" ? ["Contacts.ReadWrite"] : config.object === "events" ? ["Calendars.ReadWrite"] : []),
    ],
    missingConfig: () => null,
    configProblems: none,
  },
} as const satisfies Record<ProviderId, ProviderDefinition>;

/** The provider of an id stored in D1; a stored id that is not one is a bug. */
export function provider(id: string): ProviderDefinition {
  if (!(PROVIDER_IDS as readonly string[]).includes(id)) throw new Error(`unknown provider ${id}`);
  return PROVIDERS[id as ProviderId];
}

/** The scopes a connect asks for: what the config needs, and what names the account. */
export function connectScopes(def: ProviderDefinition, config: ResolvedConfig): string[] {
  return [...def.scopesFor(config), ...(def.account?.scopes ?? [])];
}

/** Every provider's settings problems, each named once. */
export function providerSettingsProblems(env: Env): string[] {
  return [...new Set(PROVIDER_IDS.flatMap((id) => provider(id).settingsProblems?.(env) ?? []))];
}
