import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import type { LinkRow, syncLogs } from "../db/schema";
import { saveOutcomes } from "../db/sync.repo";
import { noCounts, type RunCounts } from "../db/vocabulary";
import type { Integration } from "../integrations/store";

export type LogRow = typeof syncLogs.$inferInsert;

/**
 * What a push decided, person by person: the links to write, one log line per action,
 * the counts, and the links to forget. Planning, matching and applying add to it; it is
 * written in one batch at the end (what a create made is written as soon as it answers).
 */
export class Outcomes {
  readonly counts: RunCounts = noCounts();
  readonly links: LinkRow[] = [];
  readonly logs: LogRow[] = [];
  /** People whose link is deleted (a removed record, an inactive person never synced). */
  readonly removed: string[] = [];

  constructor(
    readonly integration: Integration,
    readonly now: number,
    private readonly stored: Map<string, LinkRow>,
  ) {}

  /** The person's link as this push sees it. */
  current(userId: string): LinkRow | undefined {
    return this.stored.get(userId);
  }

  /** Reconciliation saw the linked record gone: the push works as if it were never linked. */
  forgetRecord(userId: string): LinkRow | undefined {
    const link = this.stored.get(userId);
    if (!link) return undefined;
    const forgotten = { ...link, remoteId: null, remoteUrl: null, payloadHash: null };
    this.stored.set(userId, forgotten);
    return forgotten;
  }

  /** The person's link with `fields` changed; what is not named stays as stored. */
  link(userId: string, fields: Partial<LinkRow>): void {
    const stored = this.stored.get(userId);
    this.links.push({
      tenantId: this.integration.tenantId,
      integrationId: this.integration.id,
      userId,
      remoteId: stored?.remoteId ?? null,
      remoteUrl: stored?.remoteUrl ?? null,
      status: "pending",
      payloadHash: stored?.payloadHash ?? null,
      pushedVersion: stored?.pushedVersion ?? null,
      lastError: null,
      failureKind: null,
      lastSyncedAt: stored?.lastSyncedAt ?? null,
      manual: stored?.manual ?? null,
      updatedAt: this.now,
      ...fields,
    });
  }

  log(userId: string, action: LogRow["action"], status: LogRow["status"], detail: string | null, remoteId: string | null = null): void {
    this.logs.push({ tenantId: this.integration.tenantId, integrationId: this.integration.id, userId, action, status, remoteId, detail, at: this.now });
  }

  /** The people whose link was already decided. */
  settledUsers(): Set<string> {
    return new Set(this.links.map((l) => l.userId));
  }

  /**
   * Writes at once what was decided since `mark()`: the links (written again, unchanged,
   * at the end) and the log lines (written now only).
   */
  async flushSince(db: Db, mark: { links: number; logs: number }): Promise<void> {
    await saveOutcomes(db, this.links.slice(mark.links), this.logs.splice(mark.logs), null);
  }

  mark(): { links: number; logs: number } {
    return { links: this.links.length, logs: this.logs.length };
  }

  /**
   * Writes everything, with `alongside` (a run's counts and page) in the same batch. After
   * a provider failure (`finished` false) the links of removed people stay, for the retry.
   */
  async save(db: Db, opts: { alongside: BatchItem<"sqlite">[]; finished: boolean }): Promise<void> {
    const { alongside, finished } = opts;
    const removedLinks = finished && this.removed.length ? { integrationId: this.integration.id, userIds: this.removed } : null;
    await saveOutcomes(db, this.links, this.logs, removedLinks, alongside);
  }
}
