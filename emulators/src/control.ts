import { joinNetwork } from "./zoho/connect";
import { Hono } from "hono";
import { revokeRefreshToken } from "./zoho/accounts";
import { deltaTokens, touch } from "./microsoft/graph";
import { guid, NO_FAULTS, reset, world, worldNow, zohoId, zohoTime, ZOHO_DCS, type Faults, type Record_, type ZohoDc } from "./state";

/**
 * `/_emulator/*`: seed and inspect the emulated providers, and switch faults on and off.
 * Changes made here are not counted as provider calls (they stand for what people do by
 * hand in Zoho or Microsoft, or for what a test needs).
 */
export const control = new Hono();

control.post("/reset", async (c) => {
  const body = (await c.req.json().catch(() => ({}))) as { seed?: boolean };
  reset(body.seed !== false);
  deltaTokens.validAfter = 0;
  return c.json({ ok: true });
});

control.get("/state", (c) => {
  const orgs = Object.fromEntries(
    ZOHO_DCS.map((dc) => {
      const org = world.zoho.orgs[dc];
      return [dc, { orgId: org.id, users: org.users.size, modules: Object.fromEntries([...org.modules].map(([m, s]) => [m, s.size])) }];
    }),
  );
  return c.json({
    zoho: {
      accounts: world.zoho.accounts,
      crm: orgs,
      connect: { networks: world.zoho.connect.networks.length, members: [...world.zoho.connect.members.values()].reduce((n, m) => n + m.length, 0) },
      people: { employees: world.zoho.people.length },
    },
    microsoft: { tenantId: world.microsoft.tenantId, users: [...world.microsoft.users.values()].filter((u) => !u.removed).length },
    tokens: tokenSummary(),
    faults: world.faults,
    settings: world.settings,
  });
});

function tokenSummary() {
  const now = Date.now();
  return {
    zoho: {
      refreshTokens: [...world.zoho.refreshTokens.values()].map((t) => ({ token: t.token, dc: t.dc, account: t.account, revoked: t.revoked, minted: t.minted.length, mintedLast10Minutes: t.minted.filter((m) => now - m < 600_000).length })),
      accessTokensMinted: world.zoho.accessTokens.size,
      accessTokensLive: [...world.zoho.accessTokens.values()].filter((t) => !t.revoked && t.expiresAt > now).length,
    },
    microsoft: {
      accessTokensMinted: [...world.microsoft.tokens.values()].filter((t) => t.kind === "access").length,
      refreshTokens: [...world.microsoft.tokens.values()].filter((t) => t.kind === "refresh").map((t) => ({ token: t.token, user: t.user, revoked: t.revoked })),
    },
  };
}

control.get("/tokens", (c) => c.json(tokenSummary()));

/** Call counts per endpoint (`METHOD /path/pattern`), faulted answers included. */
control.get("/calls", (c) => {
  const calls = Object.fromEntries([...world.calls].sort(([a], [b]) => a.localeCompare(b)));
  const total = [...world.calls].filter(([k]) => !k.startsWith("fault ")).reduce((n, [, v]) => n + v, 0);
  return c.json({ total, calls });
});

control.delete("/calls", (c) => {
  world.calls.clear();
  return c.json({ ok: true });
});

control.get("/faults", (c) => c.json(world.faults));

control.put("/faults", async (c) => {
  const body = (await c.req.json().catch(() => null)) as Partial<Faults> & { seed?: number } | null;
  if (!body || typeof body !== "object") return c.json({ error: "send a JSON object" }, 400);
  world.faults = { ...NO_FAULTS, ...body, applyThenFail: { ...NO_FAULTS.applyThenFail, ...(body.applyThenFail ?? {}) } };
  world.windows.clear();
  if (typeof body.seed === "number") {
    const { prng } = await import("./seed");
    world.random = prng(body.seed);
  }
  return c.json(world.faults);
});

control.delete("/faults", (c) => {
  world.faults = { ...NO_FAULTS };
  world.windows.clear();
  return c.json(world.faults);
});

control.patch("/settings", async (c) => {
  const body = (await c.req.json().catch(() => ({}))) as Partial<typeof world.settings>;
  world.settings = { ...world.settings, ...body };
  return c.json(world.settings);
});

/** Every access token expires now (Zoho and Microsoft). */
control.post("/tokens/expire", (c) => {
  const past = Date.now() - 1;
  for (const t of world.zoho.accessTokens.values()) t.expiresAt = past;
  for (const t of world.microsoft.tokens.values()) if (t.kind === "access") t.expiresAt = past;
  return c.json({ ok: true });
});

/** Revokes one refresh token, or every one (as removing the app under Connected Apps does). */
control.post("/tokens/revoke", async (c) => {
  const body = (await c.req.json().catch(() => ({}))) as { refreshToken?: string };
  let revoked = 0;
  for (const t of world.zoho.refreshTokens.values()) {
    if (!t.revoked && (!body.refreshToken || t.token === body.refreshToken)) {
      revokeRefreshToken(t.token);
      revoked++;
    }
  }
  for (const t of world.microsoft.tokens.values()) {
    if (t.kind === "refresh" && !t.revoked && (!body.refreshToken || t.token === body.refreshToken)) {
      t.revoked = true;
      revoked++;
    }
  }
  return c.json({ revoked });
});

// ---- Zoho CRM records and users, as a person would see or edit them --------------------

function dcParam(dc: string): ZohoDc | null {
  return (ZOHO_DCS as readonly string[]).includes(dc) ? (dc as ZohoDc) : null;
}

control.get("/zoho/:dc/crm/:module", (c) => {
  const dc = dcParam(c.req.param("dc"));
  const store = dc ? world.zoho.orgs[dc].modules.get(c.req.param("module")) : undefined;
  if (!store) return c.json({ error: "unknown data centre or module" }, 404);
  const email = c.req.query("email");
  const records = [...store.values()].filter((r) => !email || r.Email === email);
  return c.json({ count: records.length, records });
});

control.post("/zoho/:dc/crm/:module", async (c) => {
  const dc = dcParam(c.req.param("dc"));
  const store = dc ? world.zoho.orgs[dc].modules.get(c.req.param("module")) : undefined;
  if (!store) return c.json({ error: "unknown data centre or module" }, 404);
  const body = (await c.req.json().catch(() => null)) as { records?: Record<string, unknown>[] } | null;
  const created = (body?.records ?? []).map((r) => {
    const id = typeof r.id === "string" ? r.id : zohoId();
    const now = zohoTime();
    const rec: Record_ = { Created_Time: now, Modified_Time: now, ...r, id };
    store.set(id, rec);
    return rec;
  });
  return c.json({ records: created }, 201);
});

control.patch("/zoho/:dc/crm/:module/:id", async (c) => {
  const dc = dcParam(c.req.param("dc"));
  const rec = dc ? world.zoho.orgs[dc].modules.get(c.req.param("module"))?.get(c.req.param("id")) : undefined;
  if (!rec) return c.json({ error: "no such record" }, 404);
  Object.assign(rec, (await c.req.json().catch(() => ({}))) as object, { id: rec.id, Modified_Time: zohoTime() });
  return c.json(rec);
});

control.delete("/zoho/:dc/crm/:module/:id", (c) => {
  const dc = dcParam(c.req.param("dc"));
  const store = dc ? world.zoho.orgs[dc].modules.get(c.req.param("module")) : undefined;
  if (!store?.delete(c.req.param("id"))) return c.json({ error: "no such record" }, 404);
  return c.body(null, 204);
});

control.get("/zoho/:dc/users", (c) => {
  const dc = dcParam(c.req.param("dc"));
  if (!dc) return c.json({ error: "unknown data centre" }, 404);
  return c.json({ users: [...world.zoho.orgs[dc].users.values()] });
});

control.get("/zoho/connect", (c) =>
  c.json({
    networks: world.zoho.connect.networks,
    members: Object.fromEntries(world.zoho.connect.members),
    invited: Object.fromEntries(world.zoho.connect.invited),
    groups: Object.fromEntries([...world.zoho.connect.groups].map(([k, gs]) => [k, gs.map((g) => ({ ...g, members: [...g.members] }))])),
  }),
);

/**
 * Zoho People's throttle: `perMinute` and `lockSeconds` set the limits (400 and 300 by
 * default), `lockForSeconds` locks the account now; the answer says what was served.
 */
control.put("/zoho/people-throttle", async (c) => {
  const body = (await c.req.json().catch(() => ({}))) as { perMinute?: number; lockSeconds?: number; lockForSeconds?: number };
  const t = world.zoho.peopleThrottle;
  if (typeof body.perMinute === "number") t.perMinute = body.perMinute;
  if (typeof body.lockSeconds === "number") t.lockMs = body.lockSeconds * 1000;
  if (typeof body.lockForSeconds === "number") t.lockedUntil = worldNow() + body.lockForSeconds * 1000;
  return c.json(t);
});

/**
 * Moves the emulator's clock ahead by `advanceMs` (what counts time, such as Zoho People's
 * throttle and lock, reads it), so a test waits out a minute without waiting a minute.
 * `/_emulator/reset` sets it back to the wall clock.
 */
control.post("/clock", async (c) => {
  const body = (await c.req.json().catch(() => ({}))) as { advanceMs?: number };
  if (typeof body.advanceMs !== "number" || body.advanceMs < 0) return c.json({ error: "advanceMs: a number of milliseconds, at least 0" }, 400);
  world.clockOffsetMs += body.advanceMs;
  return c.json({ offsetMs: world.clockOffsetMs, now: worldNow() });
});

control.get("/zoho/people-throttle", (c) => c.json(world.zoho.peopleThrottle));

/** Zoho People: add or change an employee (the HR side of a pull). */
control.put("/zoho/people/:employeeId", async (c) => {
  const fields = (await c.req.json().catch(() => ({}))) as Record<string, string>;
  const id = c.req.param("employeeId");
  const now = Date.now();
  const existing = world.zoho.people.find((e) => e.fields.EmployeeID === id);
  if (existing) {
    Object.assign(existing.fields, fields);
    existing.modifiedTime = now;
    return c.json(existing);
  }
  const created = { recordId: `4127621000${String(world.zoho.people.length).padStart(8, "0")}`, modifiedTime: now, fields: { ...fields, EmployeeID: id } };
  world.zoho.people.push(created);
  return c.json(created, 201);
});

/** Zoho Connect: invited people accept (`emails`, or every open invitation of the network). */
control.post("/zoho/connect/join", async (c) => {
  const body = (await c.req.json().catch(() => ({}))) as { scopeId?: string; emails?: string[] };
  const scopeId = body.scopeId ?? world.zoho.connect.networks[0]!.id;
  const emails = body.emails ?? (world.zoho.connect.invited.get(scopeId) ?? []).map((i) => i.email);
  const joined = emails.map((email) => ({ email, member: joinNetwork(scopeId, email) }));
  return c.json({ joined: joined.filter((j) => j.member).map((j) => ({ email: j.email, id: j.member!.id })) });
});

/** Zoho Connect: an admin takes a member out of a group by hand. */
control.delete("/zoho/connect/groups/:partitionId/members/:memberId", (c) => {
  for (const groups of world.zoho.connect.groups.values()) {
    const g = groups.find((x) => x.partitionId === c.req.param("partitionId"));
    if (g) return c.json({ removed: g.members.delete(c.req.param("memberId")) });
  }
  return c.json({ error: "no such group" }, 404);
});

/** Zoho Connect: another network on the account (the hub then asks which one to manage). */
/** Zoho Connect: a group made by hand in the network (`{ name, scopeId? }`), as an admin would. */
control.post("/zoho/connect/groups", async (c) => {
  const body = (await c.req.json()) as { name: string; scopeId?: string };
  const scopeId = body.scopeId ?? world.zoho.connect.networks[0]!.id;
  const groups = world.zoho.connect.groups.get(scopeId) ?? [];
  const partitionId = String(106000009000 + groups.length);
  groups.push({ partitionId, name: body.name, members: new Set() });
  world.zoho.connect.groups.set(scopeId, groups);
  return c.json({ partitionId }, 201);
});

control.post("/zoho/connect/networks", async (c) => {
  const body = (await c.req.json().catch(() => ({}))) as { id?: string; name?: string };
  const id = body.id ?? String(105000000001 + world.zoho.connect.networks.length);
  world.zoho.connect.networks.push({ id, name: body.name ?? `Network ${id}`, url: `net${id}`, isDefault: false });
  world.zoho.connect.members.set(id, []);
  world.zoho.connect.groups.set(id, []);
  return c.json({ id }, 201);
});

/** Zoho People: an employee gone from the organisation (deleted, not just resigned). */
control.delete("/zoho/people/:employeeId", (c) => {
  const before = world.zoho.people.length;
  world.zoho.people = world.zoho.people.filter((e) => e.fields.EmployeeID !== c.req.param("employeeId"));
  return c.json({ removed: before - world.zoho.people.length });
});

/** Zoho People: `count` more employees at once (`domain` for their e-mails, or `withoutEmail`), for pulls of size. */
control.post("/zoho/people", async (c) => {
  const body = (await c.req.json().catch(() => ({}))) as { count?: number; domain?: string; withoutEmail?: boolean };
  const count = Math.min(Math.max(Number(body.count) || 0, 0), 100_000);
  const domain = body.domain ?? "staff.example";
  const now = Date.now();
  const start = world.zoho.people.length;
  for (let i = 0; i < count; i++) {
    const n = start + i;
    world.zoho.people.push({
      recordId: `4127630000${String(n).padStart(8, "0")}`,
      modifiedTime: now,
      fields: {
        EmployeeID: `S${String(n).padStart(6, "0")}`,
        FirstName: "Staff",
        LastName: `Number ${n}`,
        // Records People holds without an e-mail (contractors, say): the hub leaves them out.
        ...(body.withoutEmail ? {} : { EmailID: `staff.${n}@${domain}` }),
        Department: "Operations",
        Designation: "Associate",
        Employeestatus: "Active",
      },
    });
  }
  return c.json({ added: count, total: world.zoho.people.length }, 201);
});

// ---- Microsoft directory changes (drive users/delta) -----------------------------------

control.post("/microsoft/users", async (c) => {
  const data = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
  const id = typeof data.id === "string" ? data.id : guid();
  const user = touch({ id, seq: 0, data: { accountEnabled: true, businessPhones: [], ...data, id } });
  world.microsoft.users.set(id, user);
  return c.json(user.data, 201);
});

control.patch("/microsoft/users/:id", async (c) => {
  const user = world.microsoft.users.get(c.req.param("id"));
  if (!user || user.removed) return c.json({ error: "no such user" }, 404);
  Object.assign(user.data, (await c.req.json().catch(() => ({}))) as object, { id: user.id });
  touch(user);
  return c.json(user.data);
});

/** Removes a user: `?soft=1` is a restorable removal (`changed`), else `deleted`. */
control.delete("/microsoft/users/:id", (c) => {
  const user = world.microsoft.users.get(c.req.param("id"));
  if (!user || user.removed) return c.json({ error: "no such user" }, 404);
  user.removed = c.req.query("soft") ? "changed" : "deleted";
  touch(user);
  return c.body(null, 204);
});

control.get("/microsoft/users", (c) => c.json({ users: [...world.microsoft.users.values()].filter((u) => !u.removed).map((u) => u.data) }));

/** Delta tokens minted before now answer 410 Gone (as after 7 days). */
control.post("/microsoft/delta/expire", (c) => {
  deltaTokens.validAfter = Date.now() + 1;
  return c.json({ ok: true });
});
