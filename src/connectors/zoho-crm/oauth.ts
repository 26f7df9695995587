import type { Connection, OAuthContext, OAuthProvider } from "../contract";
import { jsonBody, providerFetch } from "../http";
import { zohoOAuth } from "../zoho/oauth";

async function get(connection: Connection, accessToken: string, path: string): Promise<unknown> {
  const res = await providerFetch(`${connection.apiDomain}${path}`, { headers: { authorization: `Zoho-oauthtoken ${accessToken}` } });
  return res.ok ? jsonBody(res) : null;
}

const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);

/**
 * Who a Zoho CRM connect reached, named on the pages after consent and on the
 * integration: the consenting user's e-mail (`GET /crm/v8/users?type=CurrentUser`) and the
 * organisation (`GET /crm/v8/org`, whose id the record URLs need too). Best effort: an
 * answer that does not come leaves the name unknown, and the connect stands.
 */
async function describeZohoCrmAccount(_ctx: OAuthContext, { accessToken, connection }: { accessToken: string; connection: Connection }) {
  const [org, user] = await Promise.all([
    get(connection, accessToken, "/crm/v8/org").catch(() => null),
    get(connection, accessToken, "/crm/v8/users?type=CurrentUser").catch(() => null),
  ]);
  const o = (org as { org?: { id?: unknown; company_name?: unknown }[] } | null)?.org?.[0];
  const u = (user as { users?: { email?: unknown }[] } | null)?.users?.[0];
  const orgId = o?.id !== undefined && o?.id !== null ? String(o.id) : undefined;
  return { accountEmail: text(u?.email), orgName: text(o?.company_name), ...(orgId ? { orgId } : {}) } satisfies Pick<Connection, "accountEmail" | "orgName" | "orgId">;
}

/** Zoho's shared OAuth (accounts servers by data centre), with what names a CRM account. */
export const zohoCrmOAuth: OAuthProvider = {
  ...zohoOAuth,
  account: { scopes: ["ZohoCRM.users.READ"], describe: describeZohoCrmAccount },
};
