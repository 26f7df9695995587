import * as v from "valibot";
import { AppError } from "../../lib/errors";
import { withoutTrailingSlash } from "../../lib/url";

/** One Zoho data centre: its accounts server and the hosts of the products we call. */
export const ZohoDataCenter = v.object({
  id: v.pipe(v.string(), v.minLength(1)),
  accounts: v.pipe(v.string(), v.url()),
  api: v.pipe(v.string(), v.url()),
  crm: v.optional(v.pipe(v.string(), v.url())),
  connect: v.optional(v.pipe(v.string(), v.url())),
  people: v.optional(v.pipe(v.string(), v.url())),
});
export type ZohoDataCenter = v.InferOutput<typeof ZohoDataCenter>;

/**
 * Zoho's data centres (zoho.com/accounts/protocol/oauth/multi-dc.html). UK's API domain
 * is unconfirmed and therefore not listed; add it through ZOHO_DATA_CENTERS if needed.
 */
export const ZOHO_DEFAULT_DATA_CENTERS: readonly ZohoDataCenter[] = [
  dc("us", "accounts.zoho.com", "www.zohoapis.com", "zoho.com"),
  dc("eu", "accounts.zoho.eu", "www.zohoapis.eu", "zoho.eu"),
  dc("in", "accounts.zoho.in", "www.zohoapis.in", "zoho.in"),
  dc("au", "accounts.zoho.com.au", "www.zohoapis.com.au", "zoho.com.au"),
  dc("jp", "accounts.zoho.jp", "www.zohoapis.jp", "zoho.jp"),
  dc("ca", "accounts.zohocloud.ca", "www.zohoapis.ca", "zohocloud.ca"),
  dc("sa", "accounts.zoho.sa", "www.zohoapis.sa", "zoho.sa"),
  dc("cn", "accounts.zoho.com.cn", "www.zohoapis.com.cn", "zoho.com.cn"),
];

function dc(id: string, accounts: string, api: string, web: string): ZohoDataCenter {
  return {
    id,
    accounts: `https://${accounts}`,
    api: `https://${api}`,
    crm: `https://crm.${web}`,
    connect: `https://connect.${web}`,
    people: `https://people.${web}`,
  };
}

const DataCenters = v.pipe(v.array(ZohoDataCenter), v.minLength(1));
const cache = new WeakMap<object, readonly ZohoDataCenter[]>();

/**
 * The data centres the hub may reach (ZOHO_DATA_CENTERS, else Zoho's own), parsed once
 * per Env object; a malformed value is a configuration error (500).
 */
export function zohoDataCenters(env: { ZOHO_DATA_CENTERS?: string }): readonly ZohoDataCenter[] {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = parseDataCenters(env.ZOHO_DATA_CENTERS);
  cache.set(env, parsed);
  return parsed;
}

/**
 * The data centre of a connection (or of an OAuth callback): by its id, else by its
 * accounts server; null when the hub's settings name neither.
 */
export function findDataCenter(env: { ZOHO_DATA_CENTERS?: string }, by: { id?: string | null; accounts?: string | null }): ZohoDataCenter | null {
  const centres = zohoDataCenters(env);
  const accounts = by.accounts ? withoutTrailingSlash(by.accounts) : null;
  return (by.id ? centres.find((d) => d.id === by.id) : undefined) ?? (accounts ? centres.find((d) => d.accounts === accounts) : undefined) ?? null;
}

/** What is wrong with Zoho's settings (for `/healthz` and `npm start`), never their values. */
export function zohoSettingsProblems(env: { ZOHO_DATA_CENTERS?: string }): string[] {
  try {
    parseDataCenters(env.ZOHO_DATA_CENTERS);
    return [];
  } catch (err) {
    return [err instanceof AppError && err.cause instanceof Error ? err.cause.message : String(err)];
  }
}

function parseDataCenters(raw: string | undefined): readonly ZohoDataCenter[] {
  if (!raw || raw.trim() === "") return ZOHO_DEFAULT_DATA_CENTERS;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw AppError.config("ZOHO_DATA_CENTERS is not valid JSON");
  }
  const result = v.safeParse(DataCenters, json);
  if (!result.success) throw AppError.config("ZOHO_DATA_CENTERS does not match the documented shape");
  // Every host without its trailing slash: callers append paths to them as they are.
  const trim = (url: string | undefined) => (url === undefined ? undefined : withoutTrailingSlash(url));
  return result.output.map((d) => ({ ...d, accounts: withoutTrailingSlash(d.accounts), api: withoutTrailingSlash(d.api), crm: trim(d.crm), connect: trim(d.connect), people: trim(d.people) }));
}
