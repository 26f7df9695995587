import * as v from "valibot";
import type { Db } from "../db/client";
import {
  advancePlanStep,
  claimDueLocations,
  releasePickup,
  startPlanning,
  claimPickup,
  describeImport,
  dropImportKeys,
  getImport,
  getSavedMapping,
  importsOfEndedRuns,
  noteLocation,
  pickedUp,
  setImportStatus,
  stalledPlans,
  touchPlan,
  type ImportLocationRow,
} from "../db/imports.repo";
import { getRun } from "../db/runs.repo";
import type { ImportRow } from "../db/schema";
import { storedDelimiter, storedHeader, storeUpload } from "../directory/csv";
import { finished, newPlan, planPrefix, PlanStateShape, planStep, type PlanState } from "../directory/import-plan";
import type { Env } from "../env";
import type { ImportPlanJob } from "../queue/messages";
import { sendPlanStep } from "../queue/send";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { errorText, logger } from "../lib/log";
import { settings } from "../settings";
import { beginImportRun, forgetPlan } from "./import";
import type { S3Bucket, S3Object } from "../lib/s3";
import { fileAway, finishPickup } from "./pickup-report";
import { openLocation } from "./pickup-location";

/**
 * Scheduled pickup (API.md "CSV imports"): files a tenant's own tool drops under the
 * prefix of a bucket of theirs (their R2, S3 or MinIO; `PUT /v1/imports/location`) are
 * imported with the tenant's saved mapping, every `everyMinutes`, then moved to `done/`
 * or `failed/` under that prefix with a `<name>.report.json` beside them. No tenant holds
 * credentials to the hub's own bucket: the hub copies each file into it, and keeps there
 * only what it writes (uploads, plans, reports). A file is claimed by one insert keyed by
 * its key, etag and time, so overlapping ticks import it once, and the same content
 * dropped again later is imported again. There is no size limit here, so a file is
 * planned in steps through the queue, each of `IMPORT_STEP_ROWS` rows at most (a few
 * seconds) in an invocation of its own: the memory a plan needs does not grow with the file.
 */

/** Locations one tick looks at; the rest are due again at the next. */
const LOCATIONS_PER_TICK = 50;
/** Files one look takes from a location (across pages of its listing); the rest wait for the next look. */
const FILES_PER_LOOK = 1000;

/** How long a plan may stand still before its step is sent again. */
const STALLED_MS = 5 * 60_000;

/** Each due location is looked at: the import of each new file starts. Answers how many files were claimed. */
export async function pickupLocations(db: Db, env: Env, now = Date.now()): Promise<number> {
  let claimed = 0;
  for (const row of await claimDueLocations(db, now, LOCATIONS_PER_TICK)) {
    try {
      claimed += await pickupLocation(db, env, row, now);
    } catch (err) {
      // Whatever one tenant's location answers (a timeout, a page that is not S3's, a key
      // that no longer opens) is that location's problem: shown to its admin, never the tick's.
      logger({ tenantId: row.tenantId }).warn("the pickup location refused or could not be reached", { error: errorText(err) });
      await noteLocation(db, row.tenantId, { at: now, error: errorText(err) });
    }
  }
  return claimed;
}

/** Listing pages one look reads at the most (1,000 keys a page on S3). */
const PAGES_PER_LOOK = 20;

/**
 * One look at a location: the files directly under its prefix, page by page (folders,
 * `done/` and `failed/` among them, are passed over by S3 itself: `delimiter=/`), each
 * new file claimed, copied into the hub's R2 and planned; a file claimed before whose
 * import has ended is filed away again (its move had failed). What the location refuses
 * (listing, or filing a file away) shows as `lastError` (and on the dashboard) until it
 * answers again.
 */
async function pickupLocation(db: Db, env: Env, row: ImportLocationRow, now: number): Promise<number> {
  const bucket = await openLocation(env, row);
  let claimed = 0;
  let filingError: string | null = null;
  let token: string | undefined;
  let looked = 0;
  for (let pages = 0; pages < PAGES_PER_LOOK; pages++) {
    const page = await bucket.list(row.prefix, token);
    for (const object of page.objects) {
      const name = object.key.slice(row.prefix.length);
      if (!name || name.endsWith("/")) continue;
      if (++looked > FILES_PER_LOOK) break;
      const pickupKey = `${row.tenantId}:${object.key}@${object.etag}@${object.lastModified}`;
      const prior = await pickedUp(db, pickupKey);
      if (prior) {
        filingError ??= await fileAgain(db, env, prior);
        continue;
      }
      if (await claimFile(db, env, bucket, row, object, pickupKey, now)) claimed++;
    }
    token = page.next ?? undefined;
    if (!token || looked > FILES_PER_LOOK) break;
  }
  await noteLocation(db, row.tenantId, { at: now, error: filingError });
  return claimed;
}

/**
 * Claims a new file, copies it into the hub's R2 and sends its plan's first step. A copy
 * that fails for a passing reason gives the claim back (the next look takes the file
 * again); a file the hub refuses (too big a record, not text) is filed under `failed/`.
 */
async function claimFile(db: Db, env: Env, bucket: S3Bucket, row: ImportLocationRow, object: S3Object, pickupKey: string, now: number): Promise<boolean> {
  const id = newId("imp");
  const imp = await claimPickup(db, {
    id,
    tenantId: row.tenantId,
    objectKey: `uploads/${row.tenantId}/${id}.csv`,
    bytes: object.size,
    rows: 0,
    headers: "[]",
    delimiter: ",",
    pickupKey,
    planId: crypto.randomUUID(),
    sourceKey: object.key,
    createdAt: now,
  });
  if (!imp) return false;
  try {
    await storeUpload(env.FILES, imp.objectKey, await bucket.get(object.key), Number.MAX_SAFE_INTEGER);
  } catch (err) {
    if (err instanceof AppError && err.status < 500) {
      await failPickup(db, env, imp, err);
      return true;
    }
    await env.FILES.delete(imp.objectKey);
    await releasePickup(db, imp.id);
    throw err;
  }
  // Planned from now on: a plan whose step's message is lost is sent on by the cron.
  await startPlanning(db, imp.id, Date.now());
  await sendPlanStep(env, imp, 0);
  return true;
}

/**
 * A file claimed before that is still in the location: once its import has ended, it is
 * filed away (again). Answers what the location refused, or null.
 */
async function fileAgain(db: Db, env: Env, imp: ImportRow): Promise<string | null> {
  if (imp.status !== "applied" && imp.status !== "failed") return null;
  const run = imp.runId ? await getRun(db, imp.tenantId, imp.runId) : null;
  if (run) return finishPickup(db, env, imp, run);
  return fileAway(db, env, imp, { importId: imp.id, runId: null, status: "failed", file: imp.sourceKey ?? imp.objectKey, rows: imp.rows, detail: "The hub could not read the file.", finishedAt: new Date().toISOString() });
}

/**
 * Imports whose run ended while they were `applying`, whichever way it ended (done, failed,
 * cancelled, dead-lettered): the import ends with it (applied, or failed), so a new apply
 * is not refused for it, and a picked-up file is filed with its report. Answers how many.
 */
export async function endImportsOfEndedRuns(db: Db, env: Env): Promise<number> {
  const ended = await importsOfEndedRuns(db);
  for (const { imp, run } of ended) {
    await setImportStatus(db, imp.id, run.status === "done" ? "applied" : "failed");
    if (imp.planId) await forgetPlan(env, imp, imp.planId);
    await finishPickup(db, env, { ...imp, status: run.status === "done" ? "applied" : "failed" }, run);
  }
  return ended.length;
}

/** Sends again the step of each plan that has not moved for STALLED_MS (its message was lost); answers how many. */
export async function resendStalledPlans(db: Db, env: Env, now = Date.now()): Promise<number> {
  const stalled = await stalledPlans(db, now - STALLED_MS);
  for (const imp of stalled) {
    await touchPlan(db, imp.id, now);
    await sendPlanStep(env, imp, imp.planStep ?? 0);
  }
  return stalled.length;
}

/** The R2 key of a plan's state before step `n`. */
function stateKey(imp: ImportRow, planId: string, n: number): string {
  return `${planPrefix(imp, planId)}state-${n}.json`;
}

/**
 * One step of planning a picked-up file. The first reads the header row and checks the
 * saved mapping against it; each reads the state its step starts from, does one
 * `planStep`, writes the state after it and moves the import's step on with one
 * conditional update, and only the delivery that moved it sends the next step or, when
 * the plan is made, starts the import's run. A message for a step already made is a
 * redelivery: if it is the step just before, the next step's message may have been lost,
 * so it is sent again. A file the hub refuses (no saved mapping, a mapping that does not
 * fit, a malformed file, the guard) moves to `failed/` with its report.
 */
export async function handlePlanStep(db: Db, env: Env, job: ImportPlanJob): Promise<void> {
  const imp = await getImport(db, job.tenantId, job.importId);
  if (!imp || imp.status !== "uploaded" || imp.planStep === null || !imp.planId) return;
  if (job.step !== imp.planStep) {
    if (job.step === imp.planStep - 1) await sendPlanStep(env, imp, imp.planStep);
    return;
  }
  const planId = imp.planId;
  try {
    const saved = await getSavedMapping(db, imp.tenantId);
    if (!saved) throw AppError.validation([{ path: "mapping", message: "No saved mapping: save one with PUT /v1/imports/mapping (or on the dashboard's Import page) for scheduled pickup." }]);
    let current = imp;
    let state: PlanState;
    if (job.step === 0) {
      const delimiter = await storedDelimiter(env.FILES, imp.objectKey);
      const { headers, dataOffset } = await storedHeader(env.FILES, imp.objectKey, delimiter);
      current = { ...imp, delimiter, headers: JSON.stringify(headers) };
      await describeImport(db, imp.id, { rows: 0, headers: current.headers, delimiter });
      state = newPlan(headers, dataOffset, saved, planId);
    } else state = await readState(env, imp, planId, job.step);
    if (state.phase !== "done") {
      const before = state.phase;
      state = await planStep(db, env.FILES, current, saved, state, { rows: settings(env).importStepRows, write: true });
      if (before === "keys" && state.phase !== "keys") {
        await describeImport(db, imp.id, { rows: state.rows, headers: current.headers, delimiter: current.delimiter });
        current = { ...current, rows: state.rows };
      }
    }
    await env.FILES.put(stateKey(imp, planId, job.step + 1), JSON.stringify(state));
    if (!(await advancePlanStep(db, imp.id, job.step))) return;
    if (state.phase !== "done") return await sendPlanStep(env, imp, job.step + 1);
    // Made: the run starts (a crash before it leaves the next step's message to start it).
    await dropImportKeys(db, planId);
    await beginImportRun(db, env, current, finished(state), "pickup");
  } catch (err) {
    if (!(err instanceof AppError)) throw err; // the queue tries again; past its retries, failPlan
    await failPickup(db, env, imp, err);
  }
}

/** The state a plan's step starts from, as the step before wrote it. */
async function readState(env: Env, imp: ImportRow, planId: string, step: number): Promise<PlanState> {
  const object = await env.FILES.get(stateKey(imp, planId, step));
  if (!object) throw new AppError("conflict", `The state of step ${step} of the plan is no longer stored.`);
  const state = v.parse(PlanStateShape, await object.json());
  if (state.planId !== planId) throw new AppError("conflict", `The state of step ${step} belongs to another plan.`);
  return state;
}

/** A plan whose step used up its retries: the file moves to failed/ with the reason. */
export async function failPlan(db: Db, env: Env, job: ImportPlanJob, detail: string): Promise<void> {
  const imp = await getImport(db, job.tenantId, job.importId);
  if (!imp || imp.status !== "uploaded") return;
  await failPickup(db, env, imp, new AppError("internal", detail));
}

async function failPickup(db: Db, env: Env, imp: ImportRow, err: AppError): Promise<void> {
  const detail = err.errors?.map((e) => `${e.path}: ${e.message}`).join(" ") || err.detail || "The hub could not read the file.";
  await setImportStatus(db, imp.id, "failed");
  if (imp.planId) {
    await dropImportKeys(db, imp.planId);
    await forgetPlan(env, imp, imp.planId);
  }
  const current = (await getImport(db, imp.tenantId, imp.id)) ?? imp;
  await fileAway(db, env, current, { importId: imp.id, runId: null, status: "failed", file: imp.sourceKey ?? imp.objectKey, rows: current.rows, detail, finishedAt: new Date().toISOString() });
}
