import type { GroupConnector } from "../contract";
import { ProviderError } from "../errors";
import { connectCall, GROUP_ADD_BATCH, scopeOf } from "./client";

/** The network's groups: listed, made (once: after a lost answer the engine lists again first), and members added and removed. */
export const zohoConnectGroups = {
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
} satisfies GroupConnector;
