import { handlingOf, ProviderError } from "../connectors";
import type { PulledPage } from "../connectors/contract";
import type { Db } from "../db/client";
import { pullCursorStatement, unseenPeople } from "../db/pull.repo";
import { advanceRunStatement } from "../db/runs.repo";
import type { RunRow } from "../db/schema";
import { noCounts, type RunCounts } from "../db/vocabulary";
import type { Env } from "../env";
import { connectorContext } from "../integrations/connector-context";
import type { Integration } from "../integrations/store";
import { disableLeavers, takePulled } from "../sync/pull";
import { holdForApproval, pullLeaversHold } from "../sync/guard";
import { sourceOf } from "../sync/target";
import type { PageResult } from "./page-result";
import { runCompletedStatements } from "./start";
import { pullStateOf, type PullState } from "./pull-state";

/**
 * How far before the pull's start the next incremental pull looks back: a record changed
 * while the pull was paging may have moved past the page being read, and the provider's
 * clock may be behind the hub's. Reading a change twice is harmless (same version).
 */
const OVERLAP_MS = 60_000;
/** Leavers disabled a page. */
const LEAVERS_PAGE = 500;

/**
 * One page of a pull: a page of the source's records, handed to the pull engine
 * (`sync/pull.ts`: who each record is, the directory change, the source's links and
 * logs). A full pull's last pages disable the people it did not see, past the
 * mass-change guard; only a completed pull moves the integration's cursor.
 */
export async function pullPage(db: Db, env: Env, integration: Integration, run: RunRow): Promise<PageResult> {
  const source = sourceOf(integration);
  if (!source) throw new ProviderError("fatal", `${integration.provider} is not a source.`);
  const state = pullStateOf(run);
  if (state.phase === "leavers") return leaversPage(db, env, integration, run, state);
  const ctx = connectorContext(db, env, integration);
  let page: PulledPage;
  try {
    page = await source.pull.pull(ctx, { since: state.since, offset: state.offset });
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    return failure(err);
  }
  const counts = await takePulled(db, env, integration, page.records);
  // The provider's offset counts every entry it returned, those left out included.
  const next: PullState = { ...state, offset: state.offset + page.read };
  if (page.more) {
    await db.batch([advanceRunStatement(db, run, counts, { cursor: JSON.stringify(next), done: false })]);
    return { kind: "done", counts, more: true };
  }
  if (!state.full) {
    await db.batch([advanceRunStatement(db, run, counts, { cursor: JSON.stringify(next), done: true }), ...finishStatements(db, integration, run, counts)]);
    return { kind: "done", counts, more: false };
  }
  // Read to the end: the next pages disable the people this full pull did not see, past the guard.
  await db.batch([advanceRunStatement(db, run, counts, { cursor: JSON.stringify({ ...next, phase: "leavers" }), done: false })]);
  const problem = run.approved ? null : await pullLeaversHold(db, integration, run.startedAt);
  if (!problem) return { kind: "done", counts, more: true };
  await holdForApproval(db, env, integration, { ...run, page: run.page + 1 }, problem);
  return { kind: "done", counts, more: false, held: true };
}

/** What ends a completed pull, in its last page's batch: the next incremental pull's start, and `run.completed`. */
function finishStatements(db: Db, integration: Integration, run: RunRow, counts: RunCounts) {
  return [pullCursorStatement(db, integration.id, run.startedAt - OVERLAP_MS), ...runCompletedStatements(db, integration, run, counts)];
}

function failure(err: ProviderError): PageResult {
  const { stop, pause } = handlingOf(err);
  if (stop) return { kind: "stopped", reason: err.detail, counts: noCounts() };
  // A throttle or a lock: the page waits it out without spending a retry.
  if (err.kind === "retryAfter" && err.retryAfterMs !== undefined) return { kind: "later", delayMs: err.retryAfterMs, reason: err.detail, counts: noCounts() };
  return { kind: "retry", delayMs: err.retryAfterMs, reason: err.detail, pause, counts: noCounts() };
}

/** Disables, a page at a time, the people the full pull did not see (they left, or vanished from the source). */
async function leaversPage(db: Db, env: Env, integration: Integration, run: RunRow, state: PullState): Promise<PageResult> {
  const ids = await unseenPeople(db, integration, run.startedAt, state.after, LEAVERS_PAGE);
  const counts = await disableLeavers(db, env, integration, ids);
  const more = ids.length === LEAVERS_PAGE;
  const next: PullState = { ...state, after: ids[ids.length - 1] ?? state.after };
  await db.batch([
    advanceRunStatement(db, run, counts, { cursor: JSON.stringify(next), done: !more }),
    ...(more ? [] : finishStatements(db, integration, run, counts)),
  ]);
  return { kind: "done", counts, more };
}
