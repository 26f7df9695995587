import type { Db } from "../db/client";
import { ingestStatements, markNeedsPush, writeChanges, writePeople, type IngestStatements as Statements, type PersonElement } from "../db/ingest.repo";
import type { DirectoryUserRow } from "../db/schema";
import { errorText, logger } from "../lib/log";
import { GroupCommit, type WaitUntil } from "../lib/group-commit";
import { tenantBursts } from "../lib/bursts";
import type { PushJob } from "../queue/messages";
import type { Change } from "../lib/change";
import { profileOf } from "./user";
import type { Env } from "../env";
import { batchesOf, pushJob, sendAll } from "../queue/send";

export type { Change, ChangeKind } from "../lib/change";

export type IngestResult =
  | { outcome: "applied"; created: boolean; user: DirectoryUserRow }
  /** Nothing changed: the stored version is newer, or (disable/delete) the person is unknown. */
  | { outcome: "unchanged" }
  | { outcome: "duplicate" };

/** How many changes one D1 round trip may carry: two statements each, well inside D1's limits. */
const MAX_GROUP = 32;
/** How many full users one `upsertMany` statement writes (a JSON array of some 100 KiB). */
const BULK_GROUP = 400;

/**
 * Where a change's push jobs go. `batched` (the `PUSH_BATCHES` queue) waits up to its
 * window (2 s) to fill a batch of 100, so that under load a push costs the fewest provider
 * calls; `now` (`JOBS`) delivers at once. A change goes to `now` unless its tenant is in a
 * burst (`tenantBursts`): a change that arrives alone waits for nobody.
 */
export interface PushQueues {
  batched: Queue<PushJob>;
  now?: Queue<PushJob>;
}

/** The two queues of a hub's push jobs. */
export function pushQueues(env: Pick<Env, "JOBS" | "PUSH_BATCHES">): PushQueues {
  return { batched: env.PUSH_BATCHES, now: env.JOBS };
}

interface QueuedChange {
  tenantId: string;
  change: Change;
  queues: PushQueues;
  now: number;
}

const writers = new WeakMap<Db, GroupCommit<QueuedChange, IngestResult>>();

/**
 * Applies one change to the directory and enqueues one push job per active integration.
 * Changes arriving together in one isolate are written together (group commit, see
 * `GroupCommit`): one D1 batch and one `sendBatch` serve the whole group, so under load
 * the cost of a round trip is shared; a lone change is written at once. In the batch:
 *
 * 1. the tenants' integrations that receive jobs, to fan out to;
 * 2. for each change, the person's row, written only if the change is not older than
 *    what is stored (the guard is inside the statement, so racing deliveries cannot let
 *    the older win) and, for a webhook, only if its `webhook-id` is new;
 * 3. right after it, for webhooks, the delivery record, keyed by (tenant, `webhook-id`),
 *    with an outcome computed from whether step 2 changed a row (`applied`, `stale`,
 *    `ignored`); a replay inserts nothing and so answers `duplicate`.
 *
 * All of it is in D1 before any caller is answered; the send to the queue runs after,
 * under `waitUntil`. If it fails, the rows are marked `needs_push = 1` and the resync
 * picks them up.
 */
export function applyChange(
  db: Db,
  queues: PushQueues,
  tenantId: string,
  change: Change,
  opts: { waitUntil: WaitUntil; now?: number },
): Promise<IngestResult> {
  let writer = writers.get(db);
  if (!writer) {
    writer = new GroupCommit((group, waitUntil) => writeGroup(db, group, waitUntil), { maxGroup: MAX_GROUP, pollMs: 1, giveUpMs: 30_000 });
    writers.set(db, writer);
  }
  tenantBursts.note(tenantId);
  return writer.submit({ tenantId, change, queues, now: opts.now ?? Date.now() }, opts.waitUntil);
}

/**
 * Applies many changes of one tenant at once (an import's slice): the same write as
 * `applyChange`. Full users that are not webhooks (the bulk of an import) are written
 * BULK_GROUP at a time by one statement each (`upsertMany`, the same guards); the other
 * changes in groups of MAX_GROUP, as `applyChange` writes them. The changes must be of
 * distinct people (an import's plan is): their order is not kept. Answers one result per
 * change, in order; a change that failed answers its error. A storage failure of a bulk
 * statement throws (see `storageFailure`): the caller tries the changes again whole.
 */
export async function applyChanges(db: Db, batched: Queue<PushJob>, tenantId: string, changes: Change[], opts: { waitUntil: WaitUntil; now?: number }): Promise<PromiseSettledResult<IngestResult>[]> {
  const now = opts.now ?? Date.now();
  const out = new Array<PromiseSettledResult<IngestResult>>(changes.length);
  const bulk = new Map<boolean, number[]>([[true, []], [false, []]]);
  const single: number[] = [];
  changes.forEach((c, i) => (c.kind === "upsert" && !c.webhook && c.user.email ? bulk.get(c.user.status !== undefined)! : single).push(i));
  for (const [statusGiven, indexes] of bulk) {
    for (let i = 0; i < indexes.length; i += BULK_GROUP) {
      const at = indexes.slice(i, i + BULK_GROUP);
      const group = at.map((k) => ({ tenantId, change: changes[k]!, queues: { batched }, now }));
      let results: PromiseSettledResult<IngestResult>[];
      try {
        results = await writeMany(db, group, statusGiven, opts.waitUntil);
      } catch (err) {
        // The storage failed (nothing of the statement was written): the caller tries again whole.
        if (!refusedForData(err)) throw err;
        // One change the statement could not take: each is written alone, failing only itself.
        results = await writeGroups(db, group, opts.waitUntil);
      }
      at.forEach((k, j) => (out[k] = results[j]!));
    }
  }
  const results = await writeGroups(db, single.map((k) => ({ tenantId, change: changes[k]!, queues: { batched }, now })), opts.waitUntil);
  single.forEach((k, j) => (out[k] = results[j]!));
  return out;
}

/**
 * Whether a change's write was refused for the change's own data (a constraint of the
 * table), rather than failed for the storage (D1 unreachable, overloaded, reset): only
 * the first is the change's failure; the second says nothing about the change.
 */
export function refusedForData(reason: unknown): boolean {
  return /constraint/i.test(errorText(reason));
}

/**
 * The first storage failure among `applyChanges`' results, or undefined. A caller that
 * moves a cursor past the changes throws it instead, so the changes are tried again whole.
 */
export function storageFailure(results: PromiseSettledResult<unknown>[]): unknown {
  for (const r of results) if (r.status === "rejected" && !refusedForData(r.reason)) return r.reason;
  return undefined;
}

async function writeGroups(db: Db, pending: QueuedChange[], waitUntil: WaitUntil): Promise<PromiseSettledResult<IngestResult>[]> {
  const out: PromiseSettledResult<IngestResult>[] = [];
  for (let i = 0; i < pending.length; i += MAX_GROUP) out.push(...(await writeGroup(db, pending.slice(i, i + MAX_GROUP), waitUntil)));
  return out;
}

/** Full users of one tenant, none a webhook, in one statement: a person the statement did not write is unchanged (older than the stored one). */
async function writeMany(db: Db, group: QueuedChange[], statusGiven: boolean, waitUntil: WaitUntil): Promise<PromiseSettledResult<IngestResult>[]> {
  if (!group.length) return [];
  const { tenantId, now } = group[0]!;
  const people: PersonElement[] = group.map(({ change: { user, at } }) => ({ ...personColumns(user, user.email!), status: user.status ?? "active", at }));
  const { integrationIds, written: byId } = await writePeople(db, tenantId, people, statusGiven, now);
  const toSend: { pending: QueuedChange; user: DirectoryUserRow; integrationIds: string[] }[] = [];
  const results = group.map((pending): PromiseSettledResult<IngestResult> => {
    const user = byId.get(pending.change.user.id);
    if (!user) return { status: "fulfilled", value: { outcome: "unchanged" } };
    if (integrationIds.length) toSend.push({ pending, user, integrationIds });
    return { status: "fulfilled", value: { outcome: "applied", created: user.version === 1, user } };
  });
  if (toSend.length) waitUntil(enqueue(db, toSend));
  return results;
}

/** One batch for the group; if it fails, each change is tried alone so that one bad change fails only itself. */
async function writeGroup(db: Db, group: QueuedChange[], waitUntil: WaitUntil): Promise<PromiseSettledResult<IngestResult>[]> {
  let outcomes: PromiseSettledResult<Written>[];
  try {
    outcomes = (await writeBatch(db, group)).map((value) => ({ status: "fulfilled", value }));
  } catch (err) {
    if (group.length === 1) throw err;
    outcomes = await Promise.allSettled(group.map(async (p) => (await writeBatch(db, [p]))[0]!));
  }
  const toSend: { pending: QueuedChange; user: DirectoryUserRow; integrationIds: string[] }[] = [];
  const results = outcomes.map((o, i): PromiseSettledResult<IngestResult> => {
    if (o.status === "rejected") return o;
    const { result, integrationIds } = o.value;
    if (result.outcome === "applied" && integrationIds.length) toSend.push({ pending: group[i]!, user: result.user, integrationIds });
    return { status: "fulfilled", value: result };
  });
  if (toSend.length) waitUntil(enqueue(db, toSend));
  return results;
}

interface Written {
  result: IngestResult;
  integrationIds: string[];
}

async function writeBatch(db: Db, group: QueuedChange[]): Promise<Written[]> {
  const d1 = db.$client;
  const stmts = ingestStatements(db);
  const written = await writeChanges(
    db,
    group.map((p) => ({
      tenantId: p.tenantId,
      user: userWrite(stmts, d1, p),
      ...(p.change.webhook ? { webhook: webhookRecord(stmts, d1, p) } : {}),
      ...(remembersRemoval(p) ? { tombstone: tombstone(stmts, d1, p) } : {}),
    })),
  );
  return written.map(({ user, webhookNew, integrationIds }) => {
    if (webhookNew === false) return { result: { outcome: "duplicate" }, integrationIds };
    if (!user) return { result: { outcome: "unchanged" }, integrationIds };
    return { result: { outcome: "applied", created: user.version === 1, user }, integrationIds };
  });
}

/** The person's write for one change: which statement, with which values. */
function userWrite(stmts: Statements, d1: D1Database, { tenantId, change, now }: QueuedChange): D1PreparedStatement {
  const { user } = change;
  const guard = { tenantId, webhookId: change.webhook?.id ?? null };
  if (change.kind !== "upsert" && !user.email) {
    // No e-mail: the event can only change a person we hold.
    return stmts.statusOfHeld.bind(d1, { ...guard, id: user.id, status: change.kind === "delete" ? "deleted" : "disabled", at: change.at ?? now, now });
  }
  const email = user.email!;
  const givenStatus: DirectoryUserRow["status"] | null =
    change.kind === "upsert" ? (user.status ?? null) : change.kind === "delete" ? "deleted" : "disabled";
  const values = { ...guard, ...personColumns(user, email), givenStatus, status: givenStatus ?? "active", at: change.at, now };
  return (change.kind === "upsert" ? stmts.upsert : stmts.statusOnly).bind(d1, values);
}

/** The columns of a person's row that a change writes as given (one change, or an element of many). */
function personColumns(user: Change["user"], email: string) {
  return { id: user.id, email, emailLower: email.toLowerCase(), firstName: user.firstName ?? null, lastName: user.lastName ?? null, profile: JSON.stringify(profileOf(user)) };
}

/** A webhook disable or delete without an e-mail: if the person is not held yet, it is remembered. */
function remembersRemoval({ change }: QueuedChange): boolean {
  return change.webhook !== undefined && change.kind !== "upsert" && !change.user.email;
}

/** The tombstone of a removal for a person not held, after the delivery record said so (`ignored`). */
function tombstone(stmts: Statements, d1: D1Database, { tenantId, change, now }: QueuedChange): D1PreparedStatement {
  return stmts.tombstone.bind(d1, { tenantId, webhookId: change.webhook!.id, id: change.user.id, status: change.kind === "delete" ? "deleted" : "disabled", at: change.at ?? now, now });
}

/** The delivery record of a webhook, right after the person's write. */
function webhookRecord(stmts: Statements, d1: D1Database, { tenantId, change, now }: QueuedChange): D1PreparedStatement {
  const hook = change.webhook!;
  return stmts.record.bind(d1, { tenantId, webhookId: hook.id, type: hook.type, userId: change.user.id, body: hook.body, now });
}


/**
 * One message per person and active integration, for the whole group, in as few
 * `sendBatch` calls as fit (`batchesOf`: ≤ 100 messages and 256 KB a call), each on the queue its tenant's pace
 * calls for (`PushQueues`). Only a failure writes: the people of
 * a batch that failed get `needs_push = 1`, the resync's cheap index of what to push.
 * (A crash between the write and the send is caught too: the resync compares each
 * person's version with the version each link last pushed.)
 */
async function enqueue(db: Db, toSend: { pending: QueuedChange; user: DirectoryUserRow; integrationIds: string[] }[]): Promise<void> {
  const byQueue = new Map<Queue<PushJob>, { user: DirectoryUserRow; job: PushJob }[]>();
  for (const { pending, user, integrationIds } of toSend) {
    const { batched, now } = pending.queues;
    const queue = now && !tenantBursts.busy(user.tenantId) ? now : batched;
    const lane = queue === now ? "now" : "batched";
    const list = byQueue.get(queue) ?? [];
    for (const integrationId of integrationIds) {
      list.push({ user, job: pushJob({ tenantId: user.tenantId, id: integrationId }, user, pending.change.reason, lane) });
    }
    byQueue.set(queue, list);
  }
  for (const [queue, messages] of byQueue) {
    for (const chunk of batchesOf(messages, ({ job }) => job)) {
      try {
        await sendAll(queue, chunk.map(({ job }) => job));
      } catch (err) {
        const users = [...new Map(chunk.map(({ user }) => [`${user.tenantId}/${user.id}`, user])).values()];
        logger().error("enqueue failed; left for the resync", { users: users.map((u) => u.id), error: errorText(err) });
        await markNeedsPush(db, users);
      }
    }
  }
}
