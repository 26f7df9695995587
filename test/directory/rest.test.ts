import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createTenant, insertIntegration, problem } from "../helpers";

const grace = { email: "grace@navy.mil", firstName: "Grace", lastName: "Hopper", department: "Computing", designation: "Rear Admiral" };

function put(token: string, id: string, body: unknown) {
  return call(`/v1/directory/users/${encodeURIComponent(id)}`, { method: "PUT", json: body, token });
}

describe("PUT /v1/directory/users/{id}", () => {
  it("creates (201), then replaces (200) with a new version", async () => {
    const t = await createTenant();
    const created = await put(t.apiKey, "u_grace", grace);
    expect(created.status).toBe(201);
    const body = (await created.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id: "u_grace", email: grace.email, firstName: "Grace", status: "active", department: "Computing", version: 1, attributes: {} });
    expect(body.mobile).toBeNull();
    const replaced = await put(t.apiKey, "u_grace", { ...grace, status: "disabled", department: null });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ status: "disabled", department: null, version: 2 });
  });

  it("an id in the body must match the path; bad fields answer 422 with paths", async () => {
    const t = await createTenant();
    const mismatch = await put(t.apiKey, "u_1", { ...grace, id: "u_2" });
    expect(mismatch.status).toBe(422);
    expect((await problem(mismatch)).errors).toEqual([{ path: "id", message: "Must equal the id in the path." }]);
    const bad = await put(t.apiKey, "u_1", { email: "x", status: "gone", updatedAt: "2026-13-01" });
    expect(bad.status).toBe(422);
    expect((await problem(bad)).errors!.map((e) => e.path).sort()).toEqual(["email", "status", "updatedAt"]);
  });

  it("an updatedAt older than the stored version is a 409 and changes nothing", async () => {
    const t = await createTenant();
    await put(t.apiKey, "u_grace", { ...grace, updatedAt: "2026-11-21T10:00:00Z" });
    const stale = await put(t.apiKey, "u_grace", { ...grace, firstName: "Old", updatedAt: "2026-11-20T10:00:00Z" });
    expect(stale.status).toBe(409);
    const res = await call("/v1/directory/users/u_grace", { token: t.apiKey });
    expect(await res.json()).toMatchObject({ firstName: "Grace", version: 1, updatedAt: "2026-11-21T10:00:00.000Z" });
  });
});

describe("GET /v1/directory/users/{id}", () => {
  it("answers the user with its links", async () => {
    const t = await createTenant();
    await put(t.apiKey, "u_grace", grace);
    const integrationId = await insertIntegration(t.id, "active", "zoho-crm");
    await env.DB.prepare(
      "INSERT INTO links (tenant_id, integration_id, user_id, remote_id, remote_url, status, last_synced_at, updated_at) VALUES (?, ?, 'u_grace', 'z1', 'https://crm.zoho.com/crm/org1/tab/Contacts/z1', 'synced', ?, ?)",
    )
      .bind(t.id, integrationId, Date.parse("2026-11-21T10:00:00Z"), Date.now())
      .run();
    const res = await call("/v1/directory/users/u_grace", { token: t.apiKey });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { links: unknown[] };
    expect(body.links).toEqual([
      {
        integrationId,
        provider: "zoho-crm",
        status: "synced",
        remoteId: "z1",
        remoteUrl: "https://crm.zoho.com/crm/org1/tab/Contacts/z1",
        lastSyncedAt: "2026-11-21T10:00:00.000Z",
        lastError: null,
      },
    ]);
  });

  it("Security: another tenant's user is a 404, like an unknown one", async () => {
    const a = await createTenant("A");
    const b = await createTenant("B");
    await put(a.apiKey, "u_grace", grace);
    expect((await call("/v1/directory/users/u_grace", { token: b.apiKey })).status).toBe(404);
    expect((await call("/v1/directory/users/u_nobody", { token: a.apiKey })).status).toBe(404);
    expect((await call("/v1/directory/users/u_grace", { method: "DELETE", token: b.apiKey })).status).toBe(404);
    // B writing the same id creates B's own person; A's is untouched.
    expect((await put(b.apiKey, "u_grace", { ...grace, firstName: "Other" })).status).toBe(201);
    expect(await (await call("/v1/directory/users/u_grace", { token: a.apiKey })).json()).toMatchObject({ firstName: "Grace" });
    const listB = (await (await call("/v1/directory/users", { token: b.apiKey })).json()) as { data: { firstName: string }[] };
    expect(listB.data.map((u) => u.firstName)).toEqual(["Other"]);
  });
});

describe("GET /v1/directory/users", () => {
  it("pages with limit and cursor, and q matches e-mail or name case-insensitively", async () => {
    const t = await createTenant();
    const people = [
      ["u_1", "ada@example.com", "Ada", "Lovelace"],
      ["u_2", "ADA.KING@example.com", "Augusta", "King"],
      ["u_3", "grace@navy.mil", "Grace", "Hopper"],
      ["u_4", "alan@bletchley.uk", "Alan", "Turing"],
      ["u_5", "per_cent@example.com", "Per", "Cent"],
    ];
    for (const [id, email, firstName, lastName] of people) {
      expect((await put(t.apiKey, id!, { email, firstName, lastName })).status).toBe(201);
    }

    const first = (await (await call("/v1/directory/users?limit=2", { token: t.apiKey })).json()) as { data: { id: string }[]; nextCursor: string };
    expect(first.data.map((u) => u.id)).toEqual(["u_1", "u_2"]);
    const second = (await (await call(`/v1/directory/users?limit=2&cursor=${first.nextCursor}`, { token: t.apiKey })).json()) as { data: { id: string }[]; nextCursor: string };
    expect(second.data.map((u) => u.id)).toEqual(["u_3", "u_4"]);
    const third = (await (await call(`/v1/directory/users?limit=2&cursor=${second.nextCursor}`, { token: t.apiKey })).json()) as { data: { id: string }[]; nextCursor: string | null };
    expect(third).toMatchObject({ data: [{ id: "u_5" }], nextCursor: null });

    const q = async (term: string) =>
      ((await (await call(`/v1/directory/users?q=${encodeURIComponent(term)}`, { token: t.apiKey })).json()) as { data: { id: string }[] }).data.map((u) => u.id);
    expect(await q("ada")).toEqual(["u_1", "u_2"]);
    expect(await q("HOPPER")).toEqual(["u_3"]);
    expect(await q("alan turing")).toEqual(["u_4"]);
    // `_` is a LIKE wildcard; escaped, it matches only itself.
    expect(await q("_")).toEqual(["u_5"]);
    expect(await q("nobody")).toEqual([]);
  });

  it("q works for every query the validation allows: 200 characters, LIKE's wildcards, multibyte text (was a 500 past 48)", async () => {
    const t = await createTenant();
    const long = `${"x".repeat(64)}@${"y".repeat(60)}.example.com`;
    const people = [
      ["u_long", long, "Long", "Address"],
      ["u_pct", "100_sure@example.com", "Per%Cent", "Under_Score"],
      ["u_jp", "yamada@example.jp", "太郎", "山田"],
      ["u_acc", "zoe@example.fr", "Zoë", "Ängström"],
    ];
    for (const [id, email, firstName, lastName] of people) expect((await put(t.apiKey, id!, { email, firstName, lastName })).status).toBe(201);
    const q = async (term: string) => {
      const res = await call(`/v1/directory/users?q=${encodeURIComponent(term)}`, { token: t.apiKey });
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: { id: string }[] }).data.map((u) => u.id);
    };
    expect(await q(long)).toEqual(["u_long"]);
    expect(await q(`x@${"y".repeat(60)}`)).toEqual(["u_long"]);
    expect(await q("%".repeat(200))).toEqual([]);
    expect(await q("_".repeat(200))).toEqual([]);
    expect(await q("per%cent")).toEqual(["u_pct"]);
    expect(await q("0_sure")).toEqual(["u_pct"]);
    expect(await q("%_")).toEqual([]);
    expect(await q("山田")).toEqual(["u_jp"]);
    expect(await q("太".repeat(200))).toEqual([]);
    expect(await q("Ängström")).toEqual(["u_acc"]);
    expect(await q("Zoë Ä")).toEqual(["u_acc"]);
    expect((await call(`/v1/directory/users?q=${"a".repeat(201)}`, { token: t.apiKey })).status).toBe(422);
  });

  it("refuses a limit over 500 with 422", async () => {
    const t = await createTenant();
    const res = await call("/v1/directory/users?limit=501", { token: t.apiKey });
    expect(res.status).toBe(422);
    expect((await problem(res)).errors![0]!.path).toBe("limit");
  });
});

describe("DELETE /v1/directory/users/{id}", () => {
  it("marks the user deleted (204), kept for the deletion policies; an unknown id is 404", async () => {
    const t = await createTenant();
    await put(t.apiKey, "u_grace", grace);
    const res = await call("/v1/directory/users/u_grace", { method: "DELETE", token: t.apiKey });
    expect(res.status).toBe(204);
    const after = (await (await call("/v1/directory/users/u_grace", { token: t.apiKey })).json()) as { status: string; version: number };
    expect(after).toMatchObject({ status: "deleted", version: 2 });
    const deleted = (await (await call("/v1/directory/users?status=deleted", { token: t.apiKey })).json()) as { data: { id: string }[] };
    expect(deleted.data.map((u) => u.id)).toEqual(["u_grace"]);
    expect((await call("/v1/directory/users/u_nobody", { method: "DELETE", token: t.apiKey })).status).toBe(404);
  });
});
