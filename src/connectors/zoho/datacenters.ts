import * as v from "valibot";

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
