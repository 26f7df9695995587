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
    out.decide(row.id, "unchanged", {
      link: { remoteId: record.id, remoteUrl: urlOf(record.id), status: "synced", pushedVersion: row.version, lastSyncedAt: out.now },
      why: { action: "link", status: "ok", detail: `${row.status}; ${note}; onDelete is ${config.onDelete}, which leaves the record of a ${row.status} person as it is`, remoteId: record.id },
    });
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
      return out.decide(p.user.id, "created", {
        link: { remoteId: null, remoteUrl: null, status: "invited", payloadHash: p.hash, pushedVersion: p.version, lastSyncedAt: out.now, ...(r.note ? { lastError: r.note } : {}) },
        why: { action: "invite", status: "ok", detail: r.note ?? `invited to ${brand}; linked once they join` },
      });
    }
    if (r.ok) {
      const id = r.id || remoteId!;
      const linked = action === "link" || (action === "create" && r.action === "update");
      return out.decide(p.user.id, linked ? "linked" : action === "create" ? "created" : "updated", {
        link: { remoteId: id, remoteUrl: urlOf(id), status: "synced", payloadHash: p.hash, pushedVersion: p.version, lastSyncedAt: out.now },
        why: { action: linked ? "link" : action, status: "ok", detail: p.note ?? (linked ? `matched by ${config.matching.by}` : null), remoteId: id },
      });
    }
    if (remoteId && r.error === "gone") {
      // The record was deleted at the provider: forget it, so the next push creates it again.
      return out.decide(p.user.id, "failed", {
        link: { remoteId: null, remoteUrl: null, payloadHash: null, status: "failed", lastError: `The ${brand} record no longer exists; it will be created again.`, failureKind: "retry" },
        why: { action, status: "failed", detail: `the ${brand} record no longer exists`, remoteId },
      });
    }
    out.decide(p.user.id, "failed", { link: { status: "failed", lastError: r.message, failureKind: "bad_data", pushedVersion: p.version }, why: { action, status: "failed", detail: r.message, remoteId } });
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
        out.removed.push(d.userId);
        const detail = d.policy === "deactivate" ? `removed: ${brand} has no inactive state, and the directory user is ${d.status} (onDelete is deactivate)` : "deleted with the directory user (onDelete is delete)";
        out.decide(d.userId, "disabled", { why: { action, status: "ok", detail, remoteId: d.remoteId } });
      } else out.decide(d.userId, "failed", { why: { action, status: "failed", detail: r.message, remoteId: d.remoteId } });
    });
  }
}
