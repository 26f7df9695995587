import { Hono, type Context } from "hono";
import { world } from "../state";
import { checkZohoToken } from "./auth";

// Zoho Connect (zoho.com/connect/api/*.html). Parameters come as query string or form
// body. There is no documented call to update or disable a member: only removal.

export const connect = new Hono();

async function params(c: Context): Promise<Record<string, string>> {
  const out: Record<string, string> = { ...c.req.query() };
  const type = c.req.header("content-type") ?? "";
  if (type.includes("form")) for (const [k, v] of (await c.req.formData()).entries()) if (typeof v === "string") out[k] = v;
  if (type.includes("json")) Object.assign(out, await c.req.json().catch(() => ({})));
  return out;
}

function failure(c: Context, op: string, reason: string) {
  return c.json({ [op]: { result: "failure", reason } }, 400);
}

function network(scopeId: string | undefined) {
  return world.zoho.connect.networks.find((n) => n.id === scopeId) ?? null;
}

function split(list: string | undefined): string[] {
  return (list ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

connect.get("/pulse/api/allScopes", (c) => {
  const auth = checkZohoToken(c, "zohopulse.networklist.READ");
  if (auth.error) return auth.error;
  return c.json({ allScopes: { scopes: world.zoho.connect.networks } });
});

connect.get("/pulse/api/orgMembers", (c) => {
  const auth = checkZohoToken(c, "zohopulse.networklist.READ");
  if (auth.error) return auth.error;
  const scopeId = c.req.query("scopeID");
  if (!network(scopeId)) return failure(c, "orgMembers", "invalid scopeID");
  return c.json({ orgMembers: { usersDetails: world.zoho.connect.members.get(scopeId!) ?? [] } });
});

connect.post("/pulse/api/inviteUsersToNetwork", async (c) => {
  const auth = checkZohoToken(c, "zohopulse.networkAdmin.CREATE");
  if (auth.error) return auth.error;
  const p = await params(c);
  if (!network(p.scopeID)) return failure(c, "inviteUsersToNetwork", "invalid scopeID");
  const emails = split(p.emailIds);
  if (!emails.length) return failure(c, "inviteUsersToNetwork", "emailIds is required");
  if (emails.length > 1000) return failure(c, "inviteUsersToNetwork", "at most 1000 emailIds");
  const members = world.zoho.connect.members.get(p.scopeID!) ?? [];
  const invited = world.zoho.connect.invited.get(p.scopeID!) ?? [];
  let added = 0;
  for (const email of emails) {
    const same = (e: string) => e.toLowerCase() === email.toLowerCase();
    // A member is not invited again; an open invitation is sent again, not doubled.
    if (members.some((m) => same(m.emailId))) continue;
    added++;
    const open = invited.find((i) => same(i.email));
    if (open) {
      open.partitionIds = [...new Set([...open.partitionIds, ...split(p.partitionIds)])];
      // Connect e-mails the invitation again: counted, so that a test sees a duplicate.
      open.sends++;
    } else invited.push({ email, partitionIds: split(p.partitionIds), at: Date.now(), sends: 1 });
  }
  world.zoho.connect.invited.set(p.scopeID!, invited);
  return c.json({ inviteUsersToNetwork: { successUserCount: String(added), result: "success" } });
});

/** An invited person accepts: they become a member (with an id), in the groups they were invited to. */
export function joinNetwork(scopeId: string, email: string): { id: string } | null {
  const invited = world.zoho.connect.invited.get(scopeId) ?? [];
  const index = invited.findIndex((i) => i.email.toLowerCase() === email.toLowerCase());
  if (index < 0) return null;
  const [invitation] = invited.splice(index, 1);
  const members = world.zoho.connect.members.get(scopeId) ?? [];
  const n = world.nextId++;
  const member = { zuid: String(60000000 + n), id: String(70000000 + n), name: invitation!.email.split("@")[0]!, emailId: invitation!.email, role: "MEMBER" as const, workLocation: "", mobile: "" };
  members.push(member);
  world.zoho.connect.members.set(scopeId, members);
  for (const partitionId of invitation!.partitionIds) world.zoho.connect.groups.get(scopeId)?.find((g) => g.partitionId === partitionId)?.members.add(member.id);
  return { id: member.id };
}

/** Every group of a network (zoho.com/connect/api/get-all-groups.html), the ones made by hand in Connect included. */
connect.get("/pulse/api/allGroups", (c) => {
  const auth = checkZohoToken(c, "zohopulse.userDetail.READ");
  if (auth.error) return auth.error;
  const scopeId = c.req.query("scopeID");
  if (!network(scopeId)) return failure(c, "allGroups", "invalid scopeID");
  const groups = (world.zoho.connect.groups.get(scopeId!) ?? []).map((g) => ({ id: g.partitionId, name: g.name, partitionUrl: g.name.toLowerCase().replace(/\W+/g, "-"), status: "ACTIVE", type: "GROUP" }));
  return c.json({ allGroups: { groups } });
});

connect.post("/pulse/api/addGroup", async (c) => {
  const auth = checkZohoToken(c, "zohopulse.grouplist.CREATE");
  if (auth.error) return auth.error;
  const p = await params(c);
  if (!network(p.scopeID)) return failure(c, "addGroup", "invalid scopeID");
  if (!p.name) return failure(c, "addGroup", "name is required");
  const groups = world.zoho.connect.groups.get(p.scopeID!) ?? [];
  const partitionId = String(106000001000 + groups.length);
  groups.push({ partitionId, name: p.name, members: new Set() });
  world.zoho.connect.groups.set(p.scopeID!, groups);
  return c.json({ addGroup: { result: "success", partitionId } });
});

connect.post("/pulse/api/addUsersToGroup", async (c) => {
  const auth = checkZohoToken(c, "zohopulse.grouplist.CREATE");
  if (auth.error) return auth.error;
  const p = await params(c);
  if (!network(p.scopeID)) return failure(c, "addUsersToGroup", "invalid scopeID");
  const group = world.zoho.connect.groups.get(p.scopeID!)?.find((g) => g.partitionId === p.partitionId);
  if (!group) return failure(c, "addUsersToGroup", "invalid partitionId");
  const members = world.zoho.connect.members.get(p.scopeID!) ?? [];
  const wanted = [...split(p.memberIds).map((id) => ({ key: id, member: members.find((m) => m.id === id) })), ...split(p.userEmailIds).map((e) => ({ key: e, member: members.find((m) => m.emailId.toLowerCase() === e.toLowerCase()) }))];
  if (wanted.length > 100) return failure(c, "addUsersToGroup", "at most 100 users a call");
  const failedUserIds: string[] = [];
  for (const w of wanted) {
    if (w.member) group.members.add(w.member.id);
    else failedUserIds.push(w.key);
  }
  return c.json({ addUsersToGroup: failedUserIds.length ? { result: "success", failedUserIds } : { result: "success" } });
});

connect.delete("/pulse/api/removeUserFromGroup", (c) => {
  const auth = checkZohoToken(c, "zohopulse.grouplist.DELETE");
  if (auth.error) return auth.error;
  const q = c.req.query();
  const group = world.zoho.connect.groups.get(q.scopeID ?? "")?.find((g) => g.partitionId === q.partitionId);
  if (!group) return failure(c, "removeUserFromGroup", "invalid scopeID or partitionId");
  if (!group.members.delete(q.userId ?? "")) return failure(c, "removeUserFromGroup", "the user is not in the group");
  return c.json({ removeUserFromGroup: { result: "success" } });
});

connect.post("/pulse/api/deleteUserFromNetwork", async (c) => {
  const auth = checkZohoToken(c, "zohopulse.networkAdmin.DELETE");
  if (auth.error) return auth.error;
  const p = await params(c);
  if (!network(p.scopeID)) return failure(c, "deleteUserFromNetwork", "invalid scopeID");
  const members = world.zoho.connect.members.get(p.scopeID!) ?? [];
  const index = members.findIndex((m) => (p.userId && m.id === p.userId) || (p.emailId && m.emailId.toLowerCase() === p.emailId.toLowerCase()));
  if (index < 0) return failure(c, "deleteUserFromNetwork", "no such user");
  const [removed] = members.splice(index, 1);
  for (const g of world.zoho.connect.groups.get(p.scopeID!) ?? []) g.members.delete(removed!.id);
  return c.json({ deleteUserFromNetwork: { result: "success" } });
});
