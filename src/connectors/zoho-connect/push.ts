import type { PushConnector, RecordOutcome } from "../contract";
import { ProviderError } from "../errors";
import { answerLost } from "../zoho/client";
import { asRecord, connectCall, INVITE_BATCH, members, scopeOf } from "./client";
import { zohoConnectGroups } from "./groups";

/** People become members of the network by invitation; leavers are removed from it. */
export const zohoConnectPush: PushConnector = {
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
  groups: zohoConnectGroups,
};
