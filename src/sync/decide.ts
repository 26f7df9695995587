import type { RemoteRecord } from "../connectors";
import type { DirectoryUserRow } from "../db/schema";
import { userView } from "../directory/user";
import type { ResolvedConfig } from "../lib/config";
import { mapUser, outOfScope, type HandlerIntegration, type SourceUser } from "./mapping";
import type { Outcomes } from "./outcomes";

/** An active person to write: update the linked record, or find-or-create one. */
export interface ToWrite {
  user: SourceUser;
  version: number;
  /** The record to update, or null to find-or-create. */
  remoteId: string | null;
  /** True when the record was matched just now (logged as `link`). */
  matched: boolean;
  payload: Record<string, unknown>;
  hash: string;
  note: string | null;
}

/** A linked record to remove: under `onDelete: delete`, or `deactivate` where the provider has no inactive state. */
export interface Removal {
  userId: string;
  remoteId: string;
  version: number;
  policy: "delete" | "deactivate";
  /** The directory user's status that calls for the removal. */
  status: string;
}

/**
 * Whether the deletion policy removes the record of a person with this status: `delete`
 * removes deleted people's records; `deactivate` (allowed only where the provider has no
 * inactive state, so removing is how it deactivates: Zoho Connect) those of disabled and
 * deleted people.
 */
export function removedBy(config: Pick<ResolvedConfig, "onDelete">, status: string): boolean {
  if (config.onDelete === "delete") return status === "deleted";
  if (config.onDelete === "deactivate") return status !== "active";
  return false;
}

/** An inactive person with a record not linked yet: the deletion policy reaches it. */
export interface InactiveFound {
  row: DirectoryUserRow;
  record: RemoteRecord;
  note: string;
}

/** What deciding leaves to matching and applying; everything else is already in the outcomes. */
export interface Decided {
  writes: ToWrite[];
  removals: Removal[];
  /** Inactive people whose create's answer never came: looked up before being forgotten. */
  unknown: { row: DirectoryUserRow; user: SourceUser }[];
  found: InactiveFound[];
}

export interface DecideInput {
  config: ResolvedConfig;
  /** What the `before` handler sees of the integration. */
  integration: HandlerIntegration;
  /** How sentences name the provider's side (the connector's `facts.brand`). */
  brand: string;
  /** Reconciliation: the record seen for each person, or null when the linked one is gone. */
  seen?: Map<string, RemoteRecord | null>;
  /** Push even when the payload hash says nothing changed. */
  force?: boolean;
}

/** The mapped fields whose value in the remote record differs from the payload. */
function driftedFields(payload: Record<string, unknown>, remote: Record<string, unknown>): string[] {
  return Object.keys(payload).filter((k) => JSON.stringify(payload[k] ?? null) !== JSON.stringify(remote[k] ?? null));
}

/**
 * Decides, person by person and without calling anyone, what a push does: scope, the
 * `before` transform and the mapping, the payload hash (unchanged → `skip`), the
 * deletion policy for disabled and deleted people, and (reconciliation) the comparison
 * with the record seen. Decisions that need no provider call go straight into `out`.
 */
export async function decideGroup(users: DirectoryUserRow[], input: DecideInput, out: Outcomes): Promise<Decided> {
  const { config, brand, seen: seenAll, force, integration } = input;
  const decided: Decided = { writes: [], removals: [], unknown: [], found: [] };
  for (const row of users) {
    const user: SourceUser = userView(row);
    let link = out.current(row.id);
    const seen = seenAll?.get(row.id);
    // Deleted at the provider: forget the record, so that it is created again.
    if (seen === null && link?.remoteId) link = out.forgetRecord(row.id);
    if (row.status !== "active") {
      if (seen && link?.remoteId !== seen.id) {
        // Reconciliation matched a record to this inactive person: the deletion policy reaches it.
        decided.found.push({ row, record: seen, note: `matched by ${config.matching.by} during reconciliation` });
        continue;
      }
      if (!link?.remoteId) {
        // A pending link may hide a create whose answer never came (the provider stored
        // it, then failed): look the person up before forgetting them, so the policy reaches it.
        if (link?.status === "pending" && !seenAll) decided.unknown.push({ row, user });
        else if (link) out.removed.push(row.id);
        continue;
      }
      // Disabled and deleted are different events: `delete` removes the records of deleted
      // people only; a disabled person's record is left as it is.
      // A removal settled for this version (left by an admin who cancelled it) stays settled.
      const settled = !force && link.status === "synced" && link.pushedVersion === row.version;
      if (removedBy(config, row.status) && !settled) decided.removals.push({ userId: row.id, remoteId: link.remoteId, version: row.version, policy: config.onDelete as "delete" | "deactivate", status: row.status });
      else {
        const policy = config.onDelete === "delete" ? "onDelete is delete, which removes the records of deleted people only" : `onDelete is ${config.onDelete}`;
        out.decide(
          row.id,
          "unchanged",
          link.pushedVersion === row.version
            ? {}
            : {
                link: { status: link.status, lastError: link.lastError, failureKind: link.failureKind, pushedVersion: row.version },
                why: { action: "skip", status: "skipped", detail: `${row.status}; ${policy}; the remote record is left as it is`, remoteId: link.remoteId },
              },
        );
      }
      continue;
    }
    if (link?.manual === "unlinked" && !link.remoteId) {
      const changed = link.pushedVersion !== row.version;
      out.decide(row.id, "unmatched", changed ? { link: { status: "unmatched", lastError: link.lastError, pushedVersion: row.version }, why: { action: "skip", status: "skipped", detail: "unlinked by hand; link the person to a record to sync them" } } : {});
      continue;
    }
    const excluded = outOfScope(user, config.scope);
    if (excluded) {
      out.decide(row.id, "excluded", {
        ...(link?.status !== "excluded" || link.pushedVersion !== row.version ? { link: { status: "excluded", pushedVersion: row.version } } : {}),
        ...(link?.status !== "excluded" ? { why: { action: "skip", status: "skipped", detail: excluded } } : {}),
      });
      continue;
    }
    const mapped = await mapUser(user, config, integration);
    if (!mapped.ok && (mapped.reason === "before_skipped" || mapped.reason === "before_failed")) {
      // The before handler skipped the person (or failed on them): left out like the
      // scope's exclusions, with the reason, and never the batch.
      const changed = link?.status !== "excluded" || link.pushedVersion !== row.version || link.lastError !== mapped.message;
      out.decide(row.id, "excluded", changed ? { link: { status: "excluded", lastError: mapped.message, pushedVersion: row.version }, why: { action: "skip", status: "skipped", detail: mapped.message, remoteId: link?.remoteId ?? null } } : {});
      if (changed) out.handlerLog(row.id, mapped.reason === "before_failed" ? "failed" : "skipped", mapped.message);
      continue;
    }
    if (!mapped.ok) {
      out.decide(row.id, "failed", {
        link: { status: "failed", lastError: mapped.message, failureKind: "bad_data", pushedVersion: row.version },
        why: { action: link?.remoteId ? "update" : "create", status: "failed", detail: mapped.message, remoteId: link?.remoteId ?? null },
      });
      continue;
    }
    const pending: ToWrite = { user, version: row.version, remoteId: link?.remoteId ?? null, matched: false, payload: mapped.payload, hash: mapped.hash, note: null };
    if (seen) {
      // Reconciliation: compare with what the provider holds, field by mapped field.
      const drifted = driftedFields(mapped.payload, seen.fields);
      if (link?.remoteId !== seen.id) Object.assign(pending, { remoteId: seen.id, matched: true, note: `matched by ${config.matching.by} during reconciliation` });
      else if (!drifted.length) {
        const changed = link.status !== "synced" || link.payloadHash !== mapped.hash || link.pushedVersion !== row.version;
        out.decide(row.id, "unchanged", changed ? { link: { status: "synced", payloadHash: mapped.hash, pushedVersion: row.version, lastSyncedAt: out.now } } : {});
        continue;
      } else pending.note = `changed in ${brand}, put back: ${drifted.join(", ")}`;
    } else if (seen === null) {
      pending.note = `the ${brand} record was deleted in ${brand}; created again`;
    } else if (!force && link?.status === "synced" && link.remoteId && link.payloadHash === mapped.hash) {
      out.decide(row.id, "unchanged", {
        why: { action: "skip", status: "skipped", detail: "unchanged", remoteId: link.remoteId },
        ...(link.pushedVersion !== row.version ? { link: { status: "synced", pushedVersion: row.version } } : {}),
      });
      continue;
    }
    decided.writes.push(pending);
  }
  return decided;
}
