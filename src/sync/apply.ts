import type { RecordOutcome } from "../connectors";
import type { ConnectorContext } from "../connectors/contract";
import type { Db } from "../db/client";
import type { ResolvedConfig } from "../lib/config";
import type { Matched } from "./match";
import type { Outcomes } from "./outcomes";
import { removedBy, type ToWrite, type Decided, type Removal } from "./decide";
import type { Target } from "./target";

/** The records to write and remove after deciding, matching and the removal guard. */
export interface Writes extends Matched {
  removals: Removal[];
}

/**
 * Records the deletion policy for inactive people whose record was found just now: under
 * `delete`, a deleted person's record joins the removals; otherwise it is linked and left.
 */
export function settleFound(decided: Decided, config: ResolvedConfig, urlOf: (id: string) => string | null, out: Outcomes): void {
  for (const { row, record, note } of decided.found) {
    if (removedBy(config, row.status)) {
      decided.removals.push({ userId: row.id, remoteId: record.id, version: row.version, policy: config.onDelete as "delete" | "deactivate", status: row.status });
      continue;
    }
    out.counts.unchanged++;
    out.link(row.id, { remoteId: record.id, remoteUrl: urlOf(record.id), status: "synced", pushedVersion: row.version, lastSyncedAt: out.now });
    out.log(row.id, "link", "ok", `${row.status}; ${note}; onDelete is ${config.onDelete}, which leaves the record of a ${row.status} person as it is`, record.id);
  }
}

/**
 * Writes through the connector, at most `limits.writeBatch` records a call: updates by
 * id, then creates (find-or-create by the key), then removals, each record's outcome
 * into `out`. What a create made is written to D1 as soon as the call answers, before
 * any further call: a process that dies during a later call cannot orphan those records.
 * A ProviderError (the whole call refused) propagates; what was settled stays in `out`.
 */
export async function applyWrites(db: Db, ctx: ConnectorContext, target: Target, config: ResolvedConfig, writes: Writes, urlOf: (id: string) => string | null, out: Outcomes): Promise<void> {
  const { push, facts } = target;
  const object = config.object;
  const size = facts.limits.writeBatch;
  const brand = facts.brand;

  const settle = (p: ToWrite, r: RecordOutcome, action: "create" | "update" | "link", remoteId: string | null) => {
    if (r.ok && r.action === "invite") {
      // Invited (Zoho Connect): the record exists once the person joins; until then the link says so.
      out.counts.created++;
      out.link(p.user.id, { remoteId: null, remoteUrl: null, status: "invited", payloadHash: p.hash, pushedVersion: p.version, lastSyncedAt: out.now, ...(r.note ? { lastError: r.note } : {}) });
      out.log(p.user.id, "invite", "ok", r.note ?? `invited to ${brand}; linked once they join`, null);
      return;
    }
    if (r.ok) {
      const id = r.id || remoteId!;
      const linked = action === "link" || (action === "create" && r.action === "update");
      if (linked) out.counts.linked++;
      else if (action === "create") out.counts.created++;
      else out.counts.updated++;
      out.link(p.user.id, { remoteId: id, remoteUrl: urlOf(id), status: "synced", payloadHash: p.hash, pushedVersion: p.version, lastSyncedAt: out.now });
      out.log(p.user.id, linked ? "link" : action, "ok", p.note ?? (linked ? `matched by ${config.matching.by}` : null), id);
      return;
    }
    out.counts.failed++;
    if (remoteId && r.error === "gone") {
      // The record was deleted at the provider: forget it, so the next push creates it again.
      out.link(p.user.id, { remoteId: null, remoteUrl: null, payloadHash: null, status: "failed", lastError: `The ${brand} record no longer exists; it will be created again.`, failureKind: "retry" });
      out.log(p.user.id, action, "failed", `the ${brand} record no longer exists`, remoteId);
      return;
    }
    out.link(p.user.id, { status: "failed", lastError: r.message, failureKind: "bad_data", pushedVersion: p.version });
    out.log(p.user.id, action, "failed", r.message, remoteId);
  };

  for (let i = 0; i < writes.updates.length; i += size) {
    const part = writes.updates.slice(i, i + size);
    const results = await push.update(ctx, object, part.map((p) => ({ id: p.remoteId, fields: p.payload })));
    part.forEach((p, j) => settle(p, results[j]!, p.matched ? "link" : "update", p.remoteId));
  }
  const keyField = writes.keyField;
  for (let i = 0; keyField !== null && i < writes.creates.length; i += size) {
    const part = writes.creates.slice(i, i + size);
    const results = await push.create(ctx, object, part.map((p) => p.payload), keyField);
    const mark = out.mark();
    part.forEach((p, j) => settle(p, results[j]!, "create", null));
    await out.flushSince(db, mark);
  }
  for (let i = 0; i < writes.removals.length; i += size) {
    const part = writes.removals.slice(i, i + size);
    const results = await push.remove(ctx, object, part.map((d) => d.remoteId));
    part.forEach((d, j) => {
      const r = results[j]!;
      const action = d.policy === "deactivate" ? "disable" : "delete";
      if (r.ok) {
        out.counts.disabled++;
        out.removed.push(d.userId);
        out.log(
          d.userId,
          action,
          "ok",
          d.policy === "deactivate" ? `removed: ${brand} has no inactive state, and the directory user is ${d.status} (onDelete is deactivate)` : "deleted with the directory user (onDelete is delete)",
          d.remoteId,
        );
      } else {
        out.counts.failed++;
        out.log(d.userId, action, "failed", r.message, d.remoteId);
      }
    });
  }
}
