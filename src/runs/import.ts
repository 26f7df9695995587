import * as v from "valibot";
import type { Db } from "../db/client";
import { importOfRun, importStatusStatement, setImportStatus } from "../db/imports.repo";
import { addRunCountsStatement, advanceCursorStatement, countsOf, failRun, getRun, insertRun } from "../db/runs.repo";
import { insertEventsStatements } from "../db/events.repo";
import type { EventRow, ImportRow, RunRow } from "../db/schema";
import { noCounts, sumCounts, type RunCounts, type RunTrigger } from "../db/vocabulary";
import { eventRows, queueEvents } from "../events/emit";
import { listIntegrations } from "../integrations/store";
import { applyChanges } from "../directory/ingest";
import { planImport, type ImportOptions, type ImportPreview } from "../directory/import-plan";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { R2PartWriter } from "../lib/r2-parts";
import { UserRef } from "../lib/user-fields";
import type { RunPageJob } from "../jobs/messages";
import { finishPickup, nameOf, summaryKey } from "./pickup-report";
import { sendPage } from "./start";

/**
 * Applying an import: the plan is made once, when the apply is asked for (so that its
 * row errors and its 409 guard answer the request), and written to R2 as one JSON line per
 * change (`plans/{tenant}/{import}.jsonl`, the absent people of `full` mode last). The run
 * then carries it out in pages through the queue, each page reading slices of that file by
 * byte offset, every change through the directory's one path (`applyChanges`, the write
 * of `applyChange`: stale and replay guards, then a push job per active integration).
 * Unchanged rows are not in the file, so applying the same file twice changes nothing
 * the second time. The last slice stores `import.completed` for the after handlers.
 */

/** Bytes of the plan file one slice reads (a few hundred changes). */
const SLICE_BYTES = 128 * 1024;

const PlannedLine = v.object({ row: v.number(), action: v.picklist(["create", "update", "disable"]), user: UserRef });

/** Writes JSON lines to an R2 object in parts. */
class LineWriter {
  private readonly encoder = new TextEncoder();
  private constructor(private readonly parts: R2PartWriter) {}

  static async open(bucket: R2Bucket, key: string): Promise<LineWriter> {
    return new LineWriter(await R2PartWriter.open(bucket, key, { httpMetadata: { contentType: "application/x-ndjson" } }));
  }

  async line(value: unknown): Promise<void> {
    await this.parts.write(this.encoder.encode(`${JSON.stringify(value)}\n`));
  }

  close(): Promise<void> {
    return this.parts.complete();
  }

  abort(): Promise<void> {
    return this.parts.abort();
  }
}

export function planKey(imp: Pick<ImportRow, "tenantId" | "id">): string {
  return `plans/${imp.tenantId}/${imp.id}.jsonl`;
}

/**
 * Plans the import, writes the plan file and starts the `import` run; answers the run and
 * the preview it carries out. 409 when the import is already applying, or past the guard.
 */
export async function startImport(db: Db, env: Env, imp: ImportRow, opts: ImportOptions, trigger: RunTrigger): Promise<{ run: RunRow; plan: ImportPreview & { errorRows: number } }> {
  if (imp.status === "applying") throw AppError.conflict(`The import is being applied already (run ${imp.runId}).`);
  const writer = await LineWriter.open(env.FILES, planKey(imp));
  let plan: Awaited<ReturnType<typeof planImport>>;
  try {
    plan = await planImport(db, env.FILES, imp, opts, async (row, action, user) => {
      if (action !== "unchanged") await writer.line({ row, action, user });
    });
    await writer.close();
  } catch (err) {
    await writer.abort().catch(() => {});
    throw err;
  }
  // A picked-up file's report, written when its run ends, carries the plan's row errors.
  if (imp.pickupKey) await env.FILES.put(summaryKey(imp), JSON.stringify({ name: nameOf(imp.objectKey)?.name ?? imp.id, errors: plan.errors }));
  const run = await insertRun(db, { tenantId: imp.tenantId, integrationId: null, kind: "import", status: "running", trigger, userIds: null, detail: null });
  if (!run) throw AppError.conflict("An import run could not start; try again.");
  await setImportStatus(db, imp.id, "applying", run.id);
  // Rows already as the directory holds them, and rows left out for their errors, count now.
  await db.batch([addRunCountsStatement(db, run, { ...noCounts(), unchanged: plan.unchanged, failed: plan.errorRows })]);
  await sendPage(env, run);
  return { run, plan };
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
  const started = Date.now();
  let cursor = run.cursor;
  let total = countsOf(run);
  for (let slices = 1; ; slices++) {
    const slice = await importSlice(db, env, imp, Number(cursor ?? 0));
    const endsPage = !slice.done && (Date.now() - started >= PAGE_BUDGET_MS || slices >= PAGE_SLICES);
    const next = { cursor: String(slice.next), done: slice.done, endsPage };
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
      await queueEvents(env.JOBS, events);
      break;
    }
    if (endsPage) return sendPage(env, { ...run, page: run.page + 1 });
  }
  if (imp.pickupKey) {
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

/** Reads the slice of the plan file at `offset` (whole lines) and applies its changes. */
async function importSlice(db: Db, env: Env, imp: ImportRow, offset: number): Promise<{ counts: RunCounts; next: number; done: boolean }> {
  const object = await env.FILES.get(planKey(imp), { range: { offset, length: SLICE_BYTES } });
  if (!object) throw new AppError("conflict", "The import's plan is no longer stored.");
  const bytes = new Uint8Array(await object.arrayBuffer());
  const total = object.size;
  // Whole lines only: a slice that ends inside a line leaves it to the next slice.
  const consumed = offset + bytes.byteLength >= total ? bytes.byteLength : bytes.lastIndexOf(0x0a) + 1;
  if (consumed === 0 && bytes.byteLength > 0) throw new AppError("internal", undefined, undefined, undefined, { cause: new Error(`a plan line longer than ${SLICE_BYTES} bytes at ${offset}`) });
  const lines = new TextDecoder().decode(bytes.subarray(0, consumed)).split("\n").filter(Boolean);
  const counts = noCounts();
  const pending: Promise<unknown>[] = [];
  const waitUntil = (p: Promise<unknown>) => void pending.push(p);
  const planned = lines.map((raw) => v.parse(PlannedLine, JSON.parse(raw)));
  const results = await applyChanges(
    db,
    env.JOBS,
    imp.tenantId,
    planned.map((line) => ({ kind: line.action === "disable" ? ("disable" as const) : ("upsert" as const), user: line.user, at: null, reason: "import" as const })),
    { waitUntil },
  );
  results.forEach((settled, i) => {
    // A change the directory could not take is counted failed; the others go on.
    if (settled.status === "rejected") counts.failed++;
    else if (settled.value.outcome !== "applied") counts.unchanged++;
    else if (planned[i]!.action === "disable") counts.disabled++;
    else if (settled.value.created) counts.created++;
    else counts.updated++;
  });
  await Promise.allSettled(pending);
  const next = offset + consumed;
  return { counts, next, done: next >= total || lines.length === 0 };
}

/**
 * A page message of an import run. A message for a page already done is a redelivery: if
 * it is the page just before the run's next one, the next page's message may have been
 * lost, so it is sent again.
 */
export async function handleImportPage(db: Db, env: Env, job: RunPageJob): Promise<void> {
  const run = await getRun(db, job.tenantId, job.runId);
  if (!run || run.status !== "running" || job.page > run.page) return;
  if (job.page < run.page) {
    if (job.page === run.page - 1) await sendPage(env, run);
    return;
  }
  const imp = await importOfRun(db, run.tenantId, run.id);
  if (!imp) return failRun(db, run.id, "The import was deleted.");
  await importPage(db, env, run, imp);
}
