import * as v from "valibot";
import type { Db } from "../db/client";
import { importOfRun, importStatusStatement, setImportStatus } from "../db/imports.repo";
import { addRunCountsStatement, advanceCursorStatement, countsOf, failRun, getRun, insertRun } from "../db/runs.repo";
import { insertEventsStatements } from "../db/events.repo";
import type { EventRow, ImportRow, RunRow } from "../db/schema";
import { noCounts, sumCounts, type RunCounts, type RunTrigger } from "../db/vocabulary";
import { eventRows, queueEvents } from "../events/emit";
import { listIntegrations } from "../integrations/store";
import { applyChanges, storageFailure } from "../directory/ingest";
import { planFileKey, planImport, planPrefix, PlannedLine, type ImportOptions, type PlanState } from "../directory/import-plan";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import type { RunPageJob } from "../queue/messages";
import { finishPickup, summaryKey } from "./pickup-report";
import { sendRunPage } from "../queue/send";

/**
 * Applying an import: the plan is made when the apply is asked for (so that its row errors
 * and its 409 guard answer the request; a picked-up file is planned in steps through the
 * queue, `runs/pickup.ts`), and written to R2 as files of JSON lines, one line per change
 * (`planFileKey`, the absent people of `full` mode last). The run then carries it out in
 * pages through the queue, each page reading slices of those files by byte offset, every
 * change through the directory's one path (`applyChanges`, the write of `applyChange`:
 * stale and replay guards, then a push job per active integration). Unchanged rows are
 * not in the files, so applying the same file twice changes nothing the second time. The
 * last slice stores `import.completed` for the after handlers; the plan's files are then
 * deleted.
 */

/** Bytes of a plan file one slice reads (a few hundred changes). */
const SLICE_BYTES = 128 * 1024;

/**
 * Plans the import, writes the plan's files and starts the `import` run; answers the run
 * and the plan it carries out. 409 when the import is already applying, or past the guard.
 */
export async function startImport(db: Db, env: Env, imp: ImportRow, opts: ImportOptions, trigger: RunTrigger): Promise<{ run: RunRow; plan: PlanState }> {
  if (imp.status === "applying") throw AppError.conflict(`The import is being applied already (run ${imp.runId}).`);
  let plan: PlanState | null = null;
  try {
    plan = await planImport(db, env.FILES, imp, opts, true);
    return { run: await beginImportRun(db, env, imp, plan, trigger), plan };
  } catch (err) {
    if (plan) await forgetPlan(env, imp, plan.planId);
    throw err;
  }
}

/** Starts the `import` run of a finished plan whose files are written. */
export async function beginImportRun(db: Db, env: Env, imp: ImportRow, plan: PlanState, trigger: RunTrigger): Promise<RunRow> {
  // A picked-up file's report, written when its run ends, carries the plan's row errors.
  if (imp.sourceKey) await env.FILES.put(summaryKey(imp), JSON.stringify({ errors: plan.errors }));
  const run = await insertRun(db, { tenantId: imp.tenantId, integrationId: null, kind: "import", status: "running", trigger, userIds: null, detail: null });
  if (!run) throw AppError.conflict("An import run could not start; try again.");
  await setImportStatus(db, imp.id, "applying", { runId: run.id, planId: plan.planId });
  // Rows already as the directory holds them, and rows left out for their errors, count now.
  await db.batch([addRunCountsStatement(db, run, { ...noCounts(), unchanged: plan.unchanged, failed: plan.errorRows })]);
  await sendRunPage(env, run);
  return run;
}

/** Deletes the files of a plan. */
export async function forgetPlan(env: Env, imp: ImportRow, planId: string): Promise<void> {
  const prefix = planPrefix(imp, planId);
  for (let cursor: string | undefined; ; ) {
    const listed = await env.FILES.list({ prefix, cursor, limit: 1000 });
    if (listed.objects.length) await env.FILES.delete(listed.objects.map((o) => o.key));
    if (!listed.truncated) return;
    cursor = listed.cursor;
  }
}

/**
 * How long, and for how many slices, one page goes on before it hands over to the next
 * page's message: long enough that the queue's batching wait (up to `max_batch_timeout`)
 * is paid a few times per run rather than per slice, well inside a consumer's limits
 * (a slice makes a handful of subrequests: R2, D1, the queue).
 */
const PAGE_BUDGET_MS = 10_000;
const PAGE_SLICES = 25;

/**
 * One page of an import run: slices of the plan file, from the run's cursor, for up to
 * PAGE_BUDGET_MS or PAGE_SLICES. Each slice's changes go through `applyChanges`; its counts and the next
 * byte offset are written in one statement that only applies if the run is still at that
 * offset, so a redelivered or crashed page resumes where the last slice ended and adds
 * nothing twice, and of two deliveries racing, the one that lost stops.
 */
export async function importPage(db: Db, env: Env, run: RunRow, imp: ImportRow): Promise<void> {
  if (!imp.planId) return failRun(db, run.id, "The import has no plan.");
  const started = Date.now();
  let cursor = run.cursor;
  let total = countsOf(run);
  for (let slices = 1; ; slices++) {
    const slice = await importSlice(db, env, imp, imp.planId, cursorOf(cursor));
    const endsPage = !slice.done && (Date.now() - started >= PAGE_BUDGET_MS || slices >= PAGE_SLICES);
    const next = { cursor: `${slice.next.file}:${slice.next.offset}`, done: slice.done, endsPage };
    total = sumCounts(total, slice.counts);
    // The last slice stores `import.completed` for the after handlers with the run's end.
    const events = slice.done ? await importCompletedEvents(db, imp, run, total) : [];
    const [moved] = await db.batch([
      advanceCursorStatement(db, run, slice.counts, cursor, next),
      ...(slice.done ? [importStatusStatement(db, run.id, "applied"), ...insertEventsStatements(db, events)] : []),
    ]);
    if (moved.length === 0) return;
    cursor = next.cursor;
    if (slice.done) {
      await queueEvents(env, events);
      await forgetPlan(env, imp, imp.planId);
      break;
    }
    if (endsPage) return sendRunPage(env, { ...run, page: run.page + 1 });
  }
  if (imp.sourceKey) {
    const ended = await getRun(db, run.tenantId, run.id);
    if (ended) await finishPickup(db, env, imp, ended);
  }
}

/** `import.completed` for every active integration of the tenant whose after handler subscribes, one per integration however often the end is reached. */
async function importCompletedEvents(db: Db, imp: ImportRow, run: RunRow, counts: RunCounts): Promise<EventRow[]> {
  const now = Date.now();
  const integrations = (await listIntegrations(db, imp.tenantId, null, 500)).filter((i) => i.status === "active");
  return integrations.flatMap((i) => eventRows(i, "import.completed", [{ importId: imp.id, runId: run.id, counts }], now, () => `evt_${run.id}_${i.id}`));
}

/** Where a run is in its plan's files: a file, and a byte in it. */
interface PlanCursor {
  file: number;
  offset: number;
}

/** A run's cursor, `file:offset` (none yet: the start of the first file). */
function cursorOf(cursor: string | null): PlanCursor {
  const [file, offset] = (cursor ?? "0:0").split(":").map(Number);
  return { file: file ?? 0, offset: offset ?? 0 };
}

/**
 * Reads the slice of the plan at the cursor (whole lines) and applies its changes. A file
 * read to its end moves the cursor to the start of the next; there is none after the last.
 */
async function importSlice(db: Db, env: Env, imp: ImportRow, planId: string, at: PlanCursor): Promise<{ counts: RunCounts; next: PlanCursor; done: boolean }> {
  const object = await env.FILES.get(planFileKey(imp, planId, at.file), { range: { offset: at.offset, length: SLICE_BYTES } });
  if (!object && at.file === 0) throw new AppError("conflict", "The import's plan is no longer stored.");
  if (!object) return { counts: noCounts(), next: at, done: true };
  const bytes = new Uint8Array(await object.arrayBuffer());
  const total = object.size;
  const offset = at.offset;
  // Whole lines only: a slice that ends inside a line leaves it to the next slice.
  const consumed = offset + bytes.byteLength >= total ? bytes.byteLength : bytes.lastIndexOf(0x0a) + 1;
  if (consumed === 0 && bytes.byteLength > 0) throw new AppError("internal", undefined, undefined, undefined, { cause: new Error(`a plan line longer than ${SLICE_BYTES} bytes at ${offset}`) });
  const lines = new TextDecoder().decode(bytes.subarray(0, consumed)).split("\n").filter(Boolean);
  const counts = noCounts();
  const pending: Promise<unknown>[] = [];
  const waitUntil = (p: Promise<unknown>) => void pending.push(p);
  const planned = lines.map((raw) => v.parse(PlannedLine, JSON.parse(raw)));
  // The hub wrote the plan for this import: a line of another tenant's or import's is refused whole.
  const foreign = planned.find((line) => (line.tenantId !== undefined && line.tenantId !== imp.tenantId) || (line.importId !== undefined && line.importId !== imp.id));
  if (foreign) throw new AppError("internal", undefined, undefined, undefined, { cause: new Error(`plan ${planId} of ${imp.id} holds a line of import ${foreign.importId} (tenant ${foreign.tenantId})`) });
  const results = await applyChanges(
    db,
    env.PUSH_BATCHES,
    imp.tenantId,
    planned.map((line) => ({ kind: line.action === "disable" ? ("disable" as const) : ("upsert" as const), user: line.user, at: null, reason: "import" as const })),
    { waitUntil },
  );
  // A storage failure moves nothing on: the slice is tried again whole (the queue's retry).
  const failure = storageFailure(results);
  if (failure !== undefined) throw failure;
  results.forEach((settled, i) => {
    // A change the directory refused for its own data is counted failed; the others go on.
    if (settled.status === "rejected") counts.failed++;
    else if (settled.value.outcome !== "applied") counts.unchanged++;
    else if (planned[i]!.action === "disable") counts.disabled++;
    else if (settled.value.created) counts.created++;
    else counts.updated++;
  });
  await Promise.allSettled(pending);
  const next = offset + consumed;
  return { counts, next: next >= total ? { file: at.file + 1, offset: 0 } : { file: at.file, offset: next }, done: false };
}

/**
 * A page message of an import run. A message for a page already done is a redelivery and
 * does nothing (sending the next page again from it would make every later page run
 * twice); a next page whose message was lost is sent again by the cron (`resendStalledRuns`).
 */
export async function handleImportPage(db: Db, env: Env, job: RunPageJob): Promise<void> {
  const run = await getRun(db, job.tenantId, job.runId);
  if (!run || run.status !== "running" || job.page !== run.page) return;
  const imp = await importOfRun(db, run.tenantId, run.id);
  if (!imp) return failRun(db, run.id, "The import was deleted.");
  await importPage(db, env, run, imp);
}
