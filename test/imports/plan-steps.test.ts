import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { claimPickup, getImport, insertImport, startPlanning } from "../../src/db/imports.repo";
import { importKeys } from "../../src/db/schema";
import { eq } from "drizzle-orm";
import { finished, newPlan, planFileKey, planImport, planStep, type ImportOptions, type PlanState } from "../../src/directory/import-plan";
import { describeCsv, sniffDelimiter, storedHeader } from "../../src/directory/csv";
import { handlePlanStep, resendStalledPlans } from "../../src/runs/pickup";
import { call, createTenant, eventually, type TestTenant } from "../helpers";
import { bucketJson, bucketKeys, drop, ownBucket, setLocation } from "./location";

/**
 * A file planned in steps of a few rows (as a picked-up file is, through the queue) must
 * come out exactly as the same file planned at once: rows that share an id or an e-mail
 * across steps, e-mails written two ways in different steps, records with quoted newlines,
 * CRLF line ends and a BOM, and the absent people of `full` mode read over several steps.
 */

const db = () => createDb(env.DB);

async function upsertPeople(t: TestTenant, people: Record<string, unknown>[]) {
  for (const user of people) expect((await call(`/v1/directory/users/${encodeURIComponent(String(user.id))}`, { method: "PUT", json: user, token: t.apiKey })).status).toBeLessThan(300);
}

async function storedImport(t: TestTenant, text: string) {
  const key = `uploads/${t.id}/${crypto.randomUUID()}.csv`;
  await env.FILES.put(key, text);
  const delimiter = sniffDelimiter(text.slice(0, 4096));
  const { headers, rows } = await describeCsv(env.FILES, key, delimiter);
  return insertImport(db(), { id: `imp_${crypto.randomUUID().slice(0, 8)}`, tenantId: t.id, objectKey: key, bytes: text.length, rows, headers: JSON.stringify(headers), delimiter, createdAt: Date.now() });
}

async function lines(key: string): Promise<unknown[]> {
  const object = await env.FILES.get(key);
  return object ? (await object.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
}

/** The plan in steps of `rows`, its files' lines in order, and each step run twice (a redelivered message). */
async function planInSteps(imp: Awaited<ReturnType<typeof storedImport>>, opts: ImportOptions, rows: number) {
  const { headers, dataOffset } = await storedHeader(env.FILES, imp.objectKey, imp.delimiter);
  let state: PlanState = newPlan(headers, dataOffset, opts);
  let steps = 0;
  while (state.phase !== "done") {
    const again = await planStep(db(), env.FILES, imp, opts, state, { rows, write: true });
    state = await planStep(db(), env.FILES, imp, opts, state, { rows, write: true });
    expect(again).toEqual(state);
    steps++;
  }
  const planned: unknown[] = [];
  for (let n = 0; n < state.file; n++) planned.push(...(await lines(planFileKey(imp, state.planId, n))));
  return { state: finished(state), planned, steps };
}

describe("an import planned in steps", () => {
  it("plans a file in steps of three rows exactly as at once, each step safe to run twice", async () => {
    const t = await createTenant();
    await upsertPeople(t, [
      { id: "u-ada", email: "ada@steps.example", firstName: "Ada" },
      { id: "u-bob", email: "bob@steps.example", firstName: "Bob" },
      ...Array.from({ length: 8 }, (_, i) => ({ id: `u-gone-${i}`, email: `gone${i}@steps.example` })),
    ]);
    const rows = [
      "\uFEFFEmail;Name;Note",
      "ada@steps.example;Ada Lovelace;\"line one\r\nline two\"",
      "bob@steps.example;Bob;plain",
      "new1@steps.example;New;\"semi;colon\"",
      "twice@steps.example;One;x",
      "Case@steps.example;Upper;x",
      "not-an-email;Nobody;x",
      "new2@steps.example;New;x",
      "twice@steps.example;Two;x",
      "case@steps.example;Lower;x",
      "new3@steps.example;New;\"quoted \"\"word\"\"\"",
    ];
    const imp = await storedImport(t, `${rows.join("\r\n")}\r\n`);
    const opts: ImportOptions = { mapping: { Email: "email", Name: "firstName", Note: "attributes.note" }, mode: "full", maxDisablePercent: 100 };

    const atOnce = await planImport(db(), env.FILES, imp, opts, true);
    const whole = await lines(planFileKey(imp, atOnce.planId, 0));
    const absentAtOnce = await lines(planFileKey(imp, atOnce.planId, 1));
    const stepped = await planInSteps(imp, opts, 3);

    const counts = (s: PlanState) => ({ create: s.create, update: s.update, disable: s.disable, unchanged: s.unchanged, absent: s.absent, rows: s.rows, errorRows: s.errorRows, errors: s.errors });
    expect(counts(stepped.state)).toEqual(counts(atOnce));
    expect(stepped.planned).toEqual([...whole, ...absentAtOnce]);
    expect(atOnce).toMatchObject({ rows: 10, create: 3, update: 2, absent: 8, disable: 8, errorRows: 5 });
    expect(atOnce.errors.map((e) => e.row)).toEqual([4, 5, 6, 8, 9]);
    // The quoted newline, the quoted separator and the doubled quote come through whole.
    expect(whole).toContainEqual(expect.objectContaining({ row: 1, user: expect.objectContaining({ attributes: { note: "line one\r\nline two" } }) }));
    expect(whole).toContainEqual(expect.objectContaining({ row: 3, user: expect.objectContaining({ attributes: { note: "semi;colon" } }) }));
    expect(whole).toContainEqual(expect.objectContaining({ row: 10, user: expect.objectContaining({ attributes: { note: 'quoted "word"' } }) }));
    // Keys (4 steps of 3 rows), rows (4) and the absent people (8 in 3 steps).
    expect(stepped.steps).toBe(11);
    // The plan made at once forgot its keys; the stepped one keeps them until the pickup drops them.
    expect(await db().select().from(importKeys).where(eq(importKeys.planId, atOnce.planId))).toEqual([]);
    expect(await db().select().from(importKeys).where(eq(importKeys.planId, stepped.state.planId))).toHaveLength(10);
  });

  it("a step delivered twice at once, and again after the plan moved on, imports the file once", async () => {
    const t = await createTenant();
    expect((await call("/v1/imports/mapping", { method: "PUT", json: { mapping: { Email: "email", Name: "firstName" }, mode: "partial" }, token: t.apiKey })).status).toBe(200);
    const bucket = await ownBucket();
    await setLocation(t, bucket);
    const text = "Email,Name\na@twice.example,A\nb@twice.example,B\nc@twice.example,C\nb@twice.example,B again\n";
    await drop(bucket.name, "hr/twice.csv", text);
    // Claimed and copied as a look would, but its first step's message is this test's to deliver.
    const id = `imp_${crypto.randomUUID().slice(0, 8)}`;
    await env.FILES.put(`uploads/${t.id}/${id}.csv`, text);
    const imp = await claimPickup(db(), { id, tenantId: t.id, objectKey: `uploads/${t.id}/${id}.csv`, bytes: 0, rows: 0, headers: "[]", delimiter: ",", pickupKey: `twice-${crypto.randomUUID()}`, planId: crypto.randomUUID(), sourceKey: "hr/twice.csv", createdAt: Date.now() });
    await startPlanning(db(), id, Date.now());
    const job = { kind: "plan" as const, tenantId: t.id, importId: imp!.id, step: 0 };
    await Promise.all([handlePlanStep(db(), env, job), handlePlanStep(db(), env, job)]);
    await handlePlanStep(db(), env, job);
    await eventually(async () => ((await bucketKeys(bucket.name)).includes("hr/done/twice.csv") ? true : undefined), 30_000);
    const report = (await bucketJson(bucket.name, "hr/done/twice.csv.report.json"))!;
    expect(report).toMatchObject({ status: "applied", rows: 4, counts: { created: 2, failed: 2 } });
    expect(report.errors.map((e: { row: number }) => e.row)).toEqual([2, 4]);
    // Nothing of the plan is left behind: no files, no keys.
    expect((await env.FILES.list({ prefix: `plans/${t.id}/` })).objects).toEqual([]);
    expect(await db().select().from(importKeys).where(eq(importKeys.planId, imp!.planId!))).toEqual([]);
  });

  it("a plan whose step message was lost is sent on by the cron", async () => {
    const t = await createTenant();
    expect((await call("/v1/imports/mapping", { method: "PUT", json: { mapping: { Email: "email" }, mode: "partial" }, token: t.apiKey })).status).toBe(200);
    const id = `imp_${crypto.randomUUID().slice(0, 8)}`;
    await env.FILES.put(`uploads/${t.id}/${id}.csv`, "Email\nlost@steps.example\n");
    const longAgo = Date.now() - 10 * 60_000;
    const imp = await claimPickup(db(), { id, tenantId: t.id, objectKey: `uploads/${t.id}/${id}.csv`, bytes: 0, rows: 0, headers: "[]", delimiter: ",", pickupKey: `lost-${crypto.randomUUID()}`, planId: crypto.randomUUID(), sourceKey: null, createdAt: longAgo });
    await startPlanning(db(), id, longAgo);
    expect(await resendStalledPlans(db(), env)).toBeGreaterThanOrEqual(1);
    await eventually(async () => ((await getImport(db(), t.id, imp!.id))?.status === "applied" ? true : undefined), 30_000);
    // The plan moved on from the time the cron sent it on.
    expect((await getImport(db(), t.id, imp!.id))?.planMovedAt).toBeGreaterThan(longAgo);
  });
});
