import type { RemoteRecord } from "../connectors";
import type { ConnectorContext, ConnectorFacts } from "../connectors/contract";
import type { Db } from "../db/client";
import { holdersOfRecords } from "../db/sync.repo";
import type { MappingEntry, ResolvedConfig } from "../lib/config";
import type { SourceUser } from "./mapping";
import type { Outcomes } from "./outcomes";
import type { ToWrite, Decided } from "./decide";
import type { Target } from "./target";

/**
 * The remote field that holds the matching key: the target of the mapping entry that
 * reads `matching.by`, else (an entry computed by an expression) that of the provider's
 * default mapping.
 */
export function keyFieldOf(config: ResolvedConfig, facts: ConnectorFacts): string | null {
  const reads = (m: MappingEntry) => "from" in m && m.from === config.matching.by;
  return config.mapping.find(reads)?.to ?? facts.mapping.find(reads)?.to ?? null;
}

/** What matching leaves to applying: updates by id and creates. */
export interface Matched {
  updates: (ToWrite & { remoteId: string })[];
  /** People to create, found by `keyField` (null when no mapping entry reads the matching field: then none). */
  creates: ToWrite[];
  keyField: string | null;
}

/**
 * Finds the records of the people without one, by the matching key, in bulk. One record,
 * one person: a record linked to someone else is never matched again, and two people of
 * one group with one key do not both reach the same record. A match is updated (logged as
 * `link`); no match is created. Where the provider compares keys ignoring case and only a
 * record in another case exists, the person waits, unmatched, rather than be merged.
 * Inactive people whose create's answer never came get the record found for them, if any.
 */
export async function matchRecords(db: Db, ctx: ConnectorContext, target: Target, config: ResolvedConfig, decided: Decided, out: Outcomes): Promise<Matched> {
  const object = config.object;
  const keyField = keyFieldOf(config, target.facts);
  const unlinked = decided.writes.filter((p) => !p.remoteId);
  const matched: Matched = { updates: decided.writes.filter((p): p is ToWrite & { remoteId: string } => p.remoteId !== null), creates: [], keyField };
  if (keyField === null) {
    const message = `No mapping entry reads ${config.matching.by}, the matching field: add one to find and create records.`;
    for (const p of unlinked) out.decide(p.user.id, "failed", { link: { status: "failed", lastError: message, failureKind: "bad_data", pushedVersion: p.version } });
    for (const { row } of decided.unknown) out.removed.push(row.id);
    return matched;
  }
  const inactiveKey = (u: SourceUser) => {
    const value = u[config.matching.by];
    return typeof value === "string" ? value : null;
  };
  const keys = [...unlinked.map((p) => p.payload[keyField]), ...decided.unknown.map((i) => inactiveKey(i.user))].filter((k): k is string => typeof k === "string");
  const found = keys.length ? await findAll(ctx, target, object, keyField, [...new Set(keys)]) : [];
  const holders = found.length ? await holdersOfRecords(db, out.integration.id, found.map((r) => r.id)) : new Map<string, string>();
  const keyOwners = new Map<string, string>();
  const normal = (key: string) => (config.matching.caseSensitive ? key : key.toLowerCase());
  const sameKey = (r: RemoteRecord, key: string) => (config.matching.caseSensitive ? r.fields[keyField] === key : String(r.fields[keyField]).toLowerCase() === key.toLowerCase());
  const unmatchedBy = (p: ToWrite, message: string, remoteId: string | null) =>
    out.decide(p.user.id, "unmatched", {
      link: { remoteId: null, remoteUrl: null, payloadHash: null, status: "unmatched", lastError: message, pushedVersion: p.version },
      why: { action: "link", status: "skipped", detail: message, remoteId },
    });
  for (const p of unlinked) {
    const key = p.payload[keyField];
    if (typeof key !== "string") {
      out.decide(p.user.id, "failed", { link: { status: "failed", lastError: `No ${keyField} to match by.`, failureKind: "bad_data", pushedVersion: p.version } });
      continue;
    }
    const sharer = keyOwners.get(normal(key));
    if (sharer) {
      unmatchedBy(p, `${keyField} ${key} is also ${sharer}'s; a record is linked to one person only. Give each person their own ${keyField}, or link this one by hand.`, null);
      continue;
    }
    keyOwners.set(normal(key), p.user.id);
    const exact = found.filter((r) => sameKey(r, key));
    const holder = exact.map((r) => holders.get(r.id)).find((h) => h !== undefined && h !== p.user.id);
    if (holder) {
      const record = exact.find((r) => holders.get(r.id) === holder)!.id;
      unmatchedBy(p, `${keyField} ${key} is on record ${record}, which is linked to ${holder}; a record is linked to one person only. Unlink ${holder} or give this person another ${keyField}.`, record);
      continue;
    }
    if (exact.length) {
      matched.updates.push({ ...p, remoteId: exact.sort((a, b) => a.id.localeCompare(b.id))[0]!.id, matched: true, note: p.note ?? `matched by ${config.matching.by}` });
      continue;
    }
    const twin = target.push.keysIgnoreCase ? found.find((r) => String(r.fields[keyField]).toLowerCase() === key.toLowerCase()) : undefined;
    if (twin) {
      // The provider compares keys ignoring case: creating would merge into the twin.
      const message = `${keyField} ${key} matches only ${String(twin.fields[keyField])} (record ${twin.id}) in a different case; link it by hand or turn off case-sensitive matching.`;
      out.decide(p.user.id, "unmatched", { link: { status: "unmatched", lastError: message, pushedVersion: p.version }, why: { action: "link", status: "skipped", detail: message, remoteId: twin.id } });
      continue;
    }
    if (out.current(p.user.id)?.status === "invited") {
      // Invited and not joined yet: the invitation stands, and is not sent again.
      out.decide(p.user.id, "unchanged", { link: { status: "invited", payloadHash: p.hash, pushedVersion: p.version } });
      continue;
    }
    matched.creates.push(p);
  }

  // Inactive people whose create's outcome was unknown: the record the provider made, if
  // any, gets the deletion policy like any linked record; none → the link is forgotten.
  for (const { row, user } of decided.unknown) {
    const key = inactiveKey(user);
    const record = key === null ? undefined : found.find((r) => sameKey(r, key));
    const holder = record ? holders.get(record.id) : undefined;
    if (!record || (holder && holder !== row.id)) {
      out.removed.push(row.id);
      out.decide(row.id, null, { why: { action: "skip", status: "skipped", detail: `${row.status} before any record was confirmed; none found by ${config.matching.by}` } });
      continue;
    }
    decided.found.push({ row, record, note: "found the record of a create whose answer never came" });
  }
  return matched;
}

/** Looks keys up in calls of at most the provider's lookup size. */
async function findAll(ctx: ConnectorContext, target: Target, object: string, keyField: string, keys: string[]): Promise<RemoteRecord[]> {
  const size = target.facts.limits.lookupBatch;
  const out: RemoteRecord[] = [];
  for (let i = 0; i < keys.length; i += size) out.push(...(await target.push.find(ctx, object, keyField, keys.slice(i, i + size))));
  return out;
}
