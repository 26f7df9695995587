import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { endImportsOfEndedRuns, handlePlanStep, pickupLocations } from "../../src/runs/pickup";
import { handleImportPage } from "../../src/runs/import";
import { call, createTenant, cronTick, eventually, problem, recordingQueue, sessionCookie } from "../helpers";
import { EMU } from "../emulators/helpers";
import { bucketJson, bucketKeys, drop, ownBucket, saveMapping, setLocation } from "./location";

const db = () => createDb(env.DB);
/** A look at every location, as a tick would, whatever their due times. */
async function look() {
  await env.DB.prepare("UPDATE import_locations SET next_due_at = 0").run();
  return pickupLocations(db(), env);
}

describe("#29.1 scheduled pickup from the tenant's own location", () => {
  it("imports a file dropped in the tenant's bucket once, even when two looks overlap, and files it under done/ with a report", async () => {
    const t = await createTenant();
    const bucket = await ownBucket();
    await saveMapping(t, { mapping: { Email: "email", Name: "firstName" }, mode: "partial" });
    const shown = await setLocation(t, bucket);
    expect(shown).toMatchObject({ kind: "s3", bucket: bucket.name, prefix: "hr/", accessKeyId: bucket.accessKeyId, everyMinutes: 15, lastError: null });
    expect(JSON.stringify(shown)).not.toContain(bucket.secretAccessKey);
    await drop(bucket.name, "hr/people.csv", "Email,Name\nada@pickup.example,Ada\ngrace@pickup.example,Grace\nbroken,Nobody\n");
    await env.DB.prepare("UPDATE import_locations SET next_due_at = 0").run();
    const [first, second] = await Promise.all([pickupLocations(db(), env), pickupLocations(db(), env)]);
    expect(first + second).toBe(1);
    // The report is written first, then the file moved beside it.
    await eventually(async () => (!(await bucketKeys(bucket.name)).includes("hr/people.csv") ? true : undefined), 30_000);
    expect(await bucketKeys(bucket.name)).toEqual(["hr/done/people.csv", "hr/done/people.csv.report.json"]);
    const r = await bucketJson(bucket.name, "hr/done/people.csv.report.json");
    expect(r).toMatchObject({ status: "applied", file: "hr/people.csv", rows: 3, counts: { created: 2, failed: 1 }, errors: [{ row: 3, column: "Email", message: "broken is not an e-mail address." }] });
    const imports = (await (await call("/v1/imports", { token: t.apiKey })).json()) as { data: { id: string; status: string; runId: string }[] };
    expect(imports.data).toEqual([expect.objectContaining({ id: r!.importId, status: "applied", runId: r!.runId })]);
    const run = (await (await call(`/v1/runs/${r!.runId}`, { token: t.apiKey })).json()) as { trigger: string; kind: string };
    expect(run).toMatchObject({ trigger: "pickup", kind: "import" });
    // The hub's own storage holds only what it wrote: the copy of the upload, no plans left.
    expect((await env.FILES.list({ prefix: `plans/${t.id}/` })).objects).toEqual([]);
    // The next look finds nothing to do, and says when it looked.
    expect(await look()).toBe(0);
    const after = (await (await call("/v1/imports/location", { token: t.apiKey })).json()) as { lastPickupAt: string | null; lastError: string | null };
    expect(after).toMatchObject({ lastError: null, lastPickupAt: expect.any(String) });
  });

  it("files what it cannot import under failed/ with the reason: a binary file, and a tenant without a saved mapping", async () => {
    const t = await createTenant();
    const mine = await ownBucket();
    await saveMapping(t, { mapping: { Email: "email" } });
    await setLocation(t, mine);
    await drop(mine.name, "hr/photo.csv", new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x0a, "\"".charCodeAt(0)]));
    const bare = await createTenant();
    const theirs = await ownBucket();
    await setLocation(bare, theirs);
    await drop(theirs.name, "hr/people.csv", "Email\nada@x.example\n");
    await look();
    await eventually(async () => ((await bucketKeys(mine.name)).length === 2 && (await bucketKeys(theirs.name)).length === 2 ? true : undefined), 30_000);
    expect(await bucketKeys(mine.name)).toEqual(["hr/failed/photo.csv", "hr/failed/photo.csv.report.json"]);
    expect(await bucketJson(mine.name, "hr/failed/photo.csv.report.json")).toMatchObject({ status: "failed", detail: expect.stringContaining("not a text file") });
    expect(await bucketJson(theirs.name, "hr/failed/people.csv.report.json")).toMatchObject({ status: "failed", detail: expect.stringContaining("No saved mapping") });
  });

  it("#29.2 pages the whole listing: past folder markers and filed-away files, every new file is imported", async () => {
    const t = await createTenant();
    // Two keys a listing page, as a small S3 page: the files come after markers and old reports.
    const bucket = await ownBucket(undefined, 2);
    await saveMapping(t, { mapping: { Email: "email" }, mode: "partial" });
    await setLocation(t, bucket);
    for (const key of ["hr/", "hr/a-folder/", "hr/done/old.csv", "hr/done/old.csv.report.json", "hr/failed/bad.csv"]) await drop(bucket.name, key, key.endsWith("/") ? "" : "Email\nold@x.example\n");
    for (const n of [1, 2, 3]) await drop(bucket.name, `hr/z${n}.csv`, `Email\nz${n}@paged.example\n`);
    expect(await look()).toBe(3);
    await eventually(async () => ((await bucketKeys(bucket.name)).filter((k) => /^hr\/z\d\.csv$/.test(k)).length === 0 ? true : undefined), 30_000);
    expect((await bucketKeys(bucket.name)).filter((k) => k.startsWith("hr/done/z"))).toHaveLength(6);
    const people = await env.DB.prepare("SELECT count(*) AS n FROM directory_users WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(people!.n).toBe(3);
  });

  it("a location that refuses the credentials shows its answer, and nothing is imported until it is set right", async () => {
    const a = await createTenant("Tenant A");
    const b = await createTenant("Tenant B");
    const bucketOfA = await ownBucket();
    await saveMapping(a, { mapping: { Email: "email" }, mode: "partial" });
    await saveMapping(b, { mapping: { Email: "email" }, mode: "partial" });
    await drop(bucketOfA.name, "hr/a.csv", "Email\na-only@walls.example\n");
    // Tenant B names A's bucket with a key of its own: the bucket refuses it, at once and at every look.
    const shown = await setLocation(b, { name: bucketOfA.name, accessKeyId: "AKIAOTHERTENANT", secretAccessKey: "guessed" });
    expect(shown.lastError).toContain("InvalidAccessKeyId");
    await look();
    expect(((await (await call("/v1/imports/location", { token: b.apiKey })).json()) as { lastError: string }).lastError).toContain("InvalidAccessKeyId");
    expect(((await (await call("/v1/imports", { token: b.apiKey })).json()) as { data: unknown[] }).data).toEqual([]);
    expect(await bucketKeys(bucketOfA.name)).toEqual(["hr/a.csv"]);
    // Each tenant sees only its own location; an endpoint the hub may not reach is refused.
    expect((await call("/v1/imports/location", { token: a.apiKey })).status).toBe(404);
    const internal = await call("/v1/imports/location", { method: "PUT", token: a.apiKey, json: { kind: "s3", endpoint: "http://10.0.0.5:9000", bucket: "hr-files", accessKeyId: "k", secretAccessKey: "s" } });
    expect(internal.status).toBe(422);
    expect((await problem(internal)).errors?.map((e) => e.path)).toEqual(["endpoint"]);
    // Set right, the file is imported into A only.
    await setLocation(a, bucketOfA);
    await look();
    await eventually(async () => ((await bucketKeys(bucketOfA.name)).includes("hr/done/a.csv") ? true : undefined), 30_000);
    expect(await env.DB.prepare("SELECT tenant_id FROM directory_users WHERE email = 'a-only@walls.example'").all()).toMatchObject({ results: [{ tenant_id: a.id }] });
    expect((await call("/v1/imports/location", { method: "DELETE", token: a.apiKey })).status).toBe(204);
    expect((await call("/v1/imports/location", { token: a.apiKey })).status).toBe(404);
  });

  it("#29.2 an import whose run was cancelled ends with it: failed, its file filed under failed/, and a new apply is not refused", async () => {
    const t = await createTenant();
    const bucket = await ownBucket();
    await saveMapping(t, { mapping: { Email: "email" }, mode: "partial" });
    await setLocation(t, bucket);
    await drop(bucket.name, "hr/cancel.csv", "Email\nc1@cancel.example\nc2@cancel.example\n");
    // The look and the plan run here, with the queue's messages kept back: the run does not move.
    const { queue, sent: held } = recordingQueue();
    const kept = { ...env, JOBS: queue, PUSH_BATCHES: queue };
    await env.DB.prepare("UPDATE import_locations SET next_due_at = 0").run();
    expect(await pickupLocations(db(), kept)).toBe(1);
    for (let step = held.shift(); step && step.kind === "plan"; step = held.shift()) await handlePlanStep(db(), kept, step);
    const list = (await (await call("/v1/imports", { token: t.apiKey })).json()) as { data: { id: string; status: string; runId: string }[] };
    const imp = list.data[0]!;
    expect(imp.status).toBe("applying");
    expect((await call(`/v1/runs/${imp.runId}/cancel`, { method: "POST", token: t.apiKey })).status).toBe(200);
    await cronTick();
    expect(await bucketKeys(bucket.name)).toEqual(["hr/failed/cancel.csv", "hr/failed/cancel.csv.report.json"]);
    expect(await bucketJson(bucket.name, "hr/failed/cancel.csv.report.json")).toMatchObject({ status: "failed", runId: imp.runId, detail: expect.any(String) });
    expect(((await (await call(`/v1/imports/${imp.id}`, { token: t.apiKey })).json()) as { status: string }).status).toBe("failed");
    expect((await call(`/v1/imports/${imp.id}/apply`, { method: "POST", token: t.apiKey, json: { mapping: { Email: "email" } } })).status).toBe(202);
    expect(await endImportsOfEndedRuns(db(), env)).toBe(0);
  });
});

describe("#29.1 filing away takes only the version that was imported", () => {
  it("a newer file dropped at the same key while the older one's import ran stays, and is imported on the next look", async () => {
    const t = await createTenant();
    const bucket = await ownBucket();
    await saveMapping(t, { mapping: { Email: "email" }, mode: "partial" });
    await setLocation(t, bucket);
    await drop(bucket.name, "hr/people.csv", "Email\nfirst@versions.example\n");
    const { queue, sent: held } = recordingQueue();
    const kept = { ...env, JOBS: queue, PUSH_BATCHES: queue };
    await env.DB.prepare("UPDATE import_locations SET next_due_at = 0").run();
    expect(await pickupLocations(db(), kept)).toBe(1);
    for (let job = held.shift(); job; job = held.shift()) {
      if (job.kind === "plan") await handlePlanStep(db(), kept, job);
      // The run's page waits until the newer file is in.
      if (job.kind === "run") {
        await drop(bucket.name, "hr/people.csv", "Email\nsecond@versions.example\n");
        await handleImportPage(db(), kept, job);
      }
    }
    // The first version's import ended; the key holds the second, which was not filed away.
    expect(await bucketKeys(bucket.name)).toEqual(["hr/people.csv"]);
    expect(await look()).toBe(1);
    await eventually(async () => ((await bucketKeys(bucket.name)).includes("hr/done/people.csv") ? true : undefined), 30_000);
    const emails = await env.DB.prepare("SELECT email FROM directory_users WHERE tenant_id = ? ORDER BY email").bind(t.id).all<{ email: string }>();
    expect(emails.results.map((r) => r.email)).toEqual(["first@versions.example", "second@versions.example"]);
  });
});

describe("#29.1 upload and apply in one call", () => {
  it("applies with the saved mapping and mode; without one 422 and nothing stored; past the guard 409 and nothing changed", async () => {
    const t = await createTenant();
    const csv = (text: string, query = "?apply=saved") => call(`/v1/imports${query}`, { method: "POST", headers: { "content-type": "text/csv" }, body: text, token: t.apiKey });
    const without = await csv("Email\nnone@apply.example\n");
    expect(without.status).toBe(422);
    expect(((await (await call("/v1/imports", { token: t.apiKey })).json()) as { data: unknown[] }).data).toEqual([]);
    await saveMapping(t, { mapping: { Email: "email", Name: "firstName" }, mode: "full", maxDisablePercent: 20 });
    const res = await csv("Email,Name\nann@apply.example,Ann\nbob@apply.example,Bob\n");
    expect(res.status).toBe(202);
    const { id, runId } = (await res.json()) as { id: string; runId: string };
    const run = await eventually(async () => {
      const r = (await (await call(`/v1/runs/${runId}`, { token: t.apiKey })).json()) as { status: string; counts: Record<string, number> };
      return r.status === "running" ? undefined : r;
    }, 30_000);
    expect(run).toMatchObject({ status: "done", counts: { created: 2 } });
    expect(((await (await call(`/v1/imports/${id}`, { token: t.apiKey })).json()) as { status: string }).status).toBe("applied");
    // Full mode: a file without Ann and Bob would disable both of two (100 % > 20 %).
    const guarded = await csv("Email,Name\ncarl@apply.example,Carl\n");
    expect(guarded.status).toBe(409);
    const people = await env.DB.prepare("SELECT count(*) AS n FROM directory_users WHERE tenant_id = ? AND status = 'active'").bind(t.id).first<{ n: number }>();
    expect(people!.n).toBe(2);
  });
});

describe("#29.1 the pickup location on the dashboard", () => {
  it("is set with the Import page's form, never shows its secret, and shows a refusal as something to fix", async () => {
    const t = await createTenant();
    const cookie = await sessionCookie(t);
    const html = async () => (await call("/dashboard/imports", { headers: { cookie, accept: "text/html" } })).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await html())![1]!;
    const bucket = await ownBucket();
    const post = (fields: Record<string, string>) =>
      call("/dashboard/imports/location", { method: "POST", headers: { cookie, accept: "text/html", "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ _csrf: csrf, ...fields }).toString() });
    const fields = { endpoint: `${EMU}/s3`, bucket: bucket.name, prefix: "hr", region: "auto", accessKeyId: bucket.accessKeyId, secretAccessKey: bucket.secretAccessKey, everyMinutes: "30" };
    expect((await post(fields)).status).toBe(303);
    let page = await html();
    expect(page).toContain(`bucket <code>${bucket.name}</code>, prefix <code>hr/</code>`);
    expect(page).toContain("every 30 minutes");
    expect(page).not.toContain(bucket.secretAccessKey);
    expect(page).not.toContain("Needs attention");
    // A wrong secret: saved, and the bucket's own answer is shown until it is set right.
    expect((await post({ ...fields, secretAccessKey: "wrong" })).status).toBe(303);
    page = await html();
    expect(page).toContain("Needs attention");
    expect(page).toContain("SignatureDoesNotMatch");
    // A form that does not fit is refused on the page, naming the field.
    const bad = await post({ ...fields, bucket: "Not A Bucket" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("bucket");
  });
});
