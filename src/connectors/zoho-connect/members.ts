import type { Choice, ConnectorContext, GroupConnector, PushConnector, RecordOutcome, RemoteRecord } from "../contract";
import { ProviderError } from "../errors";
import { answerLost, zohoApi, zohoProductHost } from "../zoho/client";

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
function scopeOf(ctx: ConnectorContext): string {
  const { networkId } = ctx.config;
  if (typeof networkId !== "string") throw new ProviderError("config", "No Zoho Connect network is chosen for this integration.");
  return networkId;
}

/** One call to Connect; a `result: "failure"` answer is the request's, with Connect's reason. */
async function connectCall(ctx: ConnectorContext, method: string, op: string, params: Record<string, string>, opts: { once?: boolean } = {}): Promise<Record<string, unknown>> {
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
async function members(ctx: ConnectorContext): Promise<Member[]> {
  const answer = await connectCall(ctx, "GET", "orgMembers", { scopeID: scopeOf(ctx) });
  return ((answer.usersDetails as Member[] | undefined) ?? []).map((m) => ({ ...m, id: String(m.id) }));
}

const asRecord = (m: Member): RemoteRecord => ({ id: m.id, fields: { ...m } });

export const zohoConnectMembers: PushConnector = {
  keysIgnoreCase: true,
  async find(ctx, _object, field, values) {
    const wanted = new Set(values.map((v) => v.toLowerCase()));
    return (await members(ctx)).map(asRecord).filter((r) => wanted.has(String(r.fields[field] ?? "").toLowerCase()));
  },
  async create(ctx, _object, records, keyField) {
    // An invitation: the person becomes a member (a record with an id) when they join.
    const emails = records.map((r) => String(r[keyField] ?? ""));
    const out: RecordOutcome[] = [];
    for (let i = 0; i < emails.length; i += INVITE_BATCH) {
      const part = emails.slice(i, i + INVITE_BATCH);
      let note: string | undefined;
      try {
        await connectCall(ctx, "POST", "inviteUsersToNetwork", { scopeID: scopeOf(ctx), emailIds: part.join(",") }, { once: true });
      } catch (err) {
        if (!answerLost(err)) throw err;
        // Connect may have sent them: asking again would e-mail everyone twice, and Connect
        // lists no open invitations to look at. They count as invited, and the link says so.
        note = `Zoho Connect's answer to the invitation was lost (${err.detail}); counted as invited. If it never arrives, resync them.`;
      }
      for (const _ of part) out.push({ ok: true, id: null, action: "invite", ...(note ? { note } : {}) });
    }
    return out;
  },
  async update(_ctx, _object, records) {
    // Connect has no call that changes a member's profile: the member stays as it is.
    return records.map((r) => ({ ok: true, id: r.id, action: "update" }));
  },
  async remove(ctx, _object, ids) {
    const out: RecordOutcome[] = [];
    for (const id of ids) {
      try {
        await connectCall(ctx, "POST", "deleteUserFromNetwork", { scopeID: scopeOf(ctx), userId: id });
      } catch (err) {
        // Removing someone no longer in the network is done already.
        if (!(err instanceof ProviderError && err.detail.includes("no such user"))) throw err;
      }
      out.push({ ok: true, id, action: "delete" });
    }
    return out;
  },
  async get(ctx, _object, id) {
    const m = (await members(ctx)).find((x) => x.id === id);
    return m ? asRecord(m) : null;
  },
  isRecordId: (id) => /^\d{1,30}$/.test(id),
  recordUrls: async () => () => null,
  async list(ctx, _object, _fields, after) {
    const all = (await members(ctx)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { records: all.filter((m) => after === null || m.id > after).map(asRecord), more: false };
  },
  nameFields: () => ["name"],
  nameOf: (fields) => (typeof fields.name === "string" && fields.name ? fields.name : null),
  groups: {
    addBatch: GROUP_ADD_BATCH,
    async list(ctx) {
      const answer = await connectCall(ctx, "GET", "allGroups", { scopeID: scopeOf(ctx) });
      const groups = (answer.groups as { id?: string | number; name?: string }[] | undefined) ?? [];
      return groups.flatMap((g) => (g.id !== undefined && typeof g.name === "string" ? [{ id: String(g.id), name: g.name }] : []));
    },
    async create(ctx, name) {
      // Once: after a lost answer the engine lists the groups before it makes one again.
      const answer = await connectCall(ctx, "POST", "addGroup", { scopeID: scopeOf(ctx), name }, { once: true });
      if (typeof answer.partitionId !== "string") throw new ProviderError("transient", "Zoho Connect created a group without saying its id.");
      return answer.partitionId;
    },
    async add(ctx, groupId, memberIds) {
      const answer = await connectCall(ctx, "POST", "addUsersToGroup", { scopeID: scopeOf(ctx), partitionId: groupId, memberIds: memberIds.join(",") });
      return { failed: ((answer.failedUserIds as string[] | undefined) ?? []).map(String) };
    },
    async remove(ctx, groupId, memberId) {
      try {
        await connectCall(ctx, "DELETE", "removeUserFromGroup", { scopeID: scopeOf(ctx), partitionId: groupId, userId: memberId });
      } catch (err) {
        if (!(err instanceof ProviderError && err.detail.includes("not in the group"))) throw err;
      }
    },
  } satisfies GroupConnector,
};

/** The account's networks (allScopes). */
export async function connectNetworks(ctx: ConnectorContext): Promise<Choice[]> {
  const { status, body } = await zohoApi(ctx, "GET", "/pulse/api/allScopes", undefined, zohoProductHost(ctx, "connect"));
  if (status >= 400) throw new ProviderError("request", `Zoho Connect refused allScopes (HTTP ${status}).`);
  const scopes = (body as { allScopes?: { scopes?: { id: string | number; name: string; isDefault?: boolean }[] } }).allScopes?.scopes ?? [];
  return scopes.map((s) => ({ id: String(s.id), name: s.name, isDefault: s.isDefault === true }));
}
