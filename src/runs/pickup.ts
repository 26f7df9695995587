import * as v from "valibot";
import type { Db } from "../db/client";
import { advancePlanStep, claimPickup, describeImport, dropImportKeys, getImport, getSavedMapping, setImportStatus, stalledPlans, touchPlan } from "../db/imports.repo";
import type { ImportRow } from "../db/schema";
import { storedDelimiter, storedHeader } from "../directory/csv";
import { finished, newPlan, planPrefix, planStep, type PlanState } from "../directory/import-plan";
import type { Env } from "../env";
import type { PlanJob } from "../jobs/messages";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { errorText, logger } from "../lib/log";
import { settings } from "../settings";
import { beginImportRun, forgetPlan } from "./import";
import { fileAway, INBOX, nameOf } from "./pickup-report";

/**
 * Scheduled pickup (API.md "CSV imports"): files dropped under `inbox/{tenantId}/` in the
 * R2 bucket, by any S3 client on a schedule, are imported on the next cron tick with the
 * tenant's saved mapping, then moved to `done/{tenantId}/` or `failed/{tenantId}/` with a
 * `<name>.report.json` beside them. A file is claimed by one insert keyed by its key and
 * etag, so two overlapping ticks import it once. There is no size limit here, so a file is
 * planned in steps through the queue, each of `IMPORT_STEP_ROWS` rows at most (a few
 * seconds) in an invocation of its own: the memory a plan needs does not grow with the file.
 */

/** Files one tick looks at; the rest wait for the next. */
const PER_TICK = 100;

/** How long a plan may stand still before its step is sent again. */
const STALLED_MS = 5 * 60_000;

/** The import of each new file in the inbox starts; answers how many were claimed. */
export async function pickupInbox(db: Db, env: Env, now = Date.now()): Promise<number> {
  const listed = await env.FILES.list({ prefix: INBOX, limit: PER_TICK });
  let claimed = 0;
  for (const object of listed.objects) {
    const where = nameOf(object.key);
    if (!where) continue;
    let imp: ImportRow | null;
    try {
      imp = await claimPickup(db, {
        id: newId("imp"),
        tenantId: where.tenantId,
        objectKey: object.key,
        bytes: object.size,
        rows: 0,
        headers: "[]",
        delimiter: ",",
        pickupKey: `${object.key}@${object.etag}`,
        planId: crypto.randomUUID(),
        createdAt: now,
      });
    } catch (err) {
      // No such tenant (the row's tenant must exist): the file is left for an operator.
      logger({ key: object.key }).warn("inbox file of an unknown tenant left in place", { error: errorText(err) });
      continue;
    }
    if (!imp) continue;
    claimed++;
    await sendPlanStep(env, imp, 0);
  }
  return claimed;
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

async function sendPlanStep(env: Env, imp: ImportRow, step: number): Promise<void> {
  const job: PlanJob = { kind: "plan", tenantId: imp.tenantId, importId: imp.id, step };
  await env.JOBS.send(job, { contentType: "json" });
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
export async function handlePlanStep(db: Db, env: Env, job: PlanJob): Promise<void> {
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
  // Written by the step before from a PlanState; only its shape is checked here.
  const state = v.parse(v.looseObject({ planId: v.literal(planId), phase: v.picklist(["keys", "rows", "absent", "done"]) }), await object.json());
  return state as unknown as PlanState;
}

/** A plan whose step used up its retries: the file moves to failed/ with the reason. */
export async function failPlan(db: Db, env: Env, job: PlanJob, detail: string): Promise<void> {
  const imp = await getImport(db, job.tenantId, job.importId);
  if (!imp || imp.status !== "uploaded") return;
  await failPickup(db, env, imp, new AppError("internal", detail));
}

async function failPickup(db: Db, env: Env, imp: ImportRow, err: AppError): Promise<void> {
  const name = nameOf(imp.objectKey)?.name ?? imp.id;
  const detail = err.errors?.map((e) => `${e.path}: ${e.message}`).join(" ") || err.detail || "The hub could not read the file.";
  await setImportStatus(db, imp.id, "failed");
  if (imp.planId) {
    await dropImportKeys(db, imp.planId);
    await forgetPlan(env, imp, imp.planId);
  }
  const current = (await getImport(db, imp.tenantId, imp.id)) ?? imp;
  await fileAway(env, db, current, name, { importId: imp.id, runId: null, status: "failed", file: name, rows: current.rows, detail, finishedAt: new Date().toISOString() });
}
