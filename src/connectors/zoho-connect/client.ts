import type { ConnectorContext, RemoteRecord } from "../contract";
import { ProviderError } from "../errors";
import { zohoApi, zohoProductHost } from "../zoho/client";

// Zoho Connect (zoho.com/connect/api/*.html): members and groups of one network (scopeID).
// Connect documents no call that updates a member's profile or disables a member.

/** inviteUsersToNetwork takes up to 1,000 e-mails a call. */
export const INVITE_BATCH = 1000;
/** addUsersToGroup takes up to 100 members a call. */
export const GROUP_ADD_BATCH = 100;

interface Member {
  zuid?: string;
  id: string;
  name?: string;
  emailId: string;
  role?: string;
  workLocation?: string;
  mobile?: string;
}

/** The network the integration manages (its config's `networkId`). */
export function scopeOf(ctx: ConnectorContext): string {
  const { networkId } = ctx.config;
  if (typeof networkId !== "string") throw new ProviderError("config", "No Zoho Connect network is chosen for this integration.");
  return networkId;
}

/** One call to Connect; a `result: "failure"` answer is the request's, with Connect's reason. */
export async function connectCall(ctx: ConnectorContext, method: string, op: string, params: Record<string, string>, opts: { once?: boolean } = {}): Promise<Record<string, unknown>> {
  const host = zohoProductHost(ctx, "connect");
  const query = new URLSearchParams(params);
  const { status, body } =
    method === "POST" ? await zohoApi(ctx, "POST", `/pulse/api/${op}`, query, host, opts) : await zohoApi(ctx, method, `/pulse/api/${op}?${query}`, undefined, host, opts);
  const answer = (body as Record<string, Record<string, unknown> | undefined>)[op];
  if (status >= 400 || !answer || answer.result === "failure") {
    const reason = typeof answer?.reason === "string" ? answer.reason : `HTTP ${status}`;
    throw new ProviderError("request", `Zoho Connect refused ${op} (${reason}).`);
  }
  return answer;
}

/** Every member of the network (orgMembers returns them in one answer). */
export async function members(ctx: ConnectorContext): Promise<Member[]> {
  const answer = await connectCall(ctx, "GET", "orgMembers", { scopeID: scopeOf(ctx) });
  return ((answer.usersDetails as Member[] | undefined) ?? []).map((m) => ({ ...m, id: String(m.id) }));
}

export const asRecord = (m: Member): RemoteRecord => ({ id: m.id, fields: { ...m } });

