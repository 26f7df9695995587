import type { BatchItem } from "drizzle-orm/batch";
import { handlingOf, ProviderError, type RemoteRecord } from "../connectors";
import type { Db } from "../db/client";
import type { RunCounts } from "../db/vocabulary";
import { forgetHashesStatement, linksByUsers, usersByIds } from "../db/sync.repo";
import type { Env } from "../env";
import { queueEvents } from "../events/emit";
import { connectorContext } from "../integrations/connector-context";
import type { Integration } from "../integrations/store";
import { applyWrites, settleFound } from "./apply";
import { matchRecords } from "./match";
import { Outcomes } from "./outcomes";
import { decideGroup } from "./decide";
import { syncGroups } from "./groups";
import { allowedRemovals, type RemovalMode } from "./removals";
import { targetOf } from "./target";
import { sendPushes } from "../queue/send";

export { canPush } from "./target";

/** What became of a group of jobs: done, or to be tried again after `delayMs`. */
export type GroupOutcome = (
  | { kind: "done" }
  | { kind: "retry"; delayMs: number | undefined; reason: string; pause: boolean }
  /** The provider refused the credentials: the integration waits for a reconnect. */
  | { kind: "stopped"; reason: string }
) & { counts: RunCounts };

export interface PushOptions {
  /**
   * Reconciliation: what it saw at the provider, by person: the record (the linked one,
   * or one it matched just now), or null when the linked record is gone (it is created
   * again). A seen record is compared field by field instead of by the payload hash.
   */
  seen?: Map<string, RemoteRecord | null>;
  /** Push even when the payload hash says nothing changed (resync of chosen people). */
  force?: boolean;
  /**
   * Statements written in the same batch as the outcomes, e.g. a run's counts and its
   * next page. `finished` is false when a provider failure leaves people to a retry.
   */
  alongside?: (counts: RunCounts, finished: boolean) => BatchItem<"sqlite">[];
  /** How the mass-change guard treats removals (see RemovalMode); `hourly` by default. */
  removals?: RemovalMode;
}

/**
 * Pushes the people of one integration's jobs to its provider, exactly once, in four
 * steps: decide (scope, mapping and hash per person; unchanged → `skip`, no call), match
 * (the people without a record are looked up by the matching key, in bulk), apply
 * (updates by id, find-or-create by the key, removals past the mass-change guard,
 * through the connector) and outcomes (every link and one log line per action, in one
 * batch at the end; what a create made is written as soon as it answers).
 * A failure of a whole call (429, 5xx, network, token) leaves the rest to a retry.
 */
export async function pushGroup(db: Db, env: Env, integration: Integration, userIds: string[], opts: PushOptions = {}): Promise<GroupOutcome> {
  const target = targetOf(integration);
  if (!target) throw new ProviderError("fatal", `${integration.provider} does not push people.`);
  const config = integration.config;
  const [users, existing] = await Promise.all([usersByIds(db, integration.tenantId, userIds), linksByUsers(db, integration.id, userIds)]);
  const out = new Outcomes(integration, Date.now(), new Map(existing.map((l) => [l.userId, l])), new Map(users.map((u) => [u.id, u.email])));
  const handlerIntegration = { id: integration.id, name: integration.name, provider: integration.provider };
  const decided = await decideGroup(users, { config, brand: target.facts.brand, seen: opts.seen, force: opts.force, integration: handlerIntegration }, out);

  try {
    const ctx = connectorContext(db, env, integration);
    // Only a write needs a record URL (and what the provider needs to make one).
    const urlOf = decided.writes.length || decided.unknown.length || decided.found.length ? await target.push.recordUrls(ctx, config.object) : () => null;
    const matched = await matchRecords(db, ctx, target, config, decided, out);
    settleFound(decided, config, urlOf, out);
    const removals = await allowedRemovals(db, integration, decided.removals, opts.removals ?? "hourly", out);
    await applyWrites(db, ctx, target, config, { ...matched, removals }, urlOf, out);
    if (target.push.groups) await syncGroups(db, ctx, target.push.groups, config, users, out, { reassert: opts.seen !== undefined });
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    // Nothing is written for the people still to push; the links say why they wait.
    const settled = out.settledUsers();
    const waiting = decided.writes.filter((p) => !settled.has(p.user.id));
    for (const p of waiting) out.link(p.user.id, { status: "pending", lastError: err.detail, failureKind: "retry" });
    await out.save(db, { alongside: opts.alongside?.(out.counts, false) ?? [], finished: false });
    await queueEvents(env, out.emitted);
    const { stop, pause } = handlingOf(err);
    if (stop) return { kind: "stopped", reason: err.detail, counts: out.counts };
    return { kind: "retry", delayMs: err.retryAfterMs, reason: err.detail, pause, counts: out.counts };
  }
  // A newer version arrived while this push was writing an older one: its push may have
  // landed first, so the provider may now hold the older values. Push those people again.
  const written = new Map(out.links.filter((l) => l.status === "synced" && l.pushedVersion !== null).map((l) => [l.userId, l.pushedVersion!]));
  const overtaken = written.size ? (await usersByIds(db, integration.tenantId, [...written.keys()])).filter((u) => u.version > written.get(u.id)!) : [];
  const again = overtaken.length ? [forgetHashesStatement(db, integration.id, overtaken.map((u) => u.id))] : [];
  await out.save(db, { alongside: [...(opts.alongside?.(out.counts, true) ?? []), ...again], finished: true });
  await queueEvents(env, out.emitted);
  if (overtaken.length) {
    await sendPushes(env, integration, overtaken, "sweep");
  }
  return { kind: "done", counts: out.counts };
}
