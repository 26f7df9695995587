import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { handlerLogStatements, insertEventsStatements } from "../db/events.repo";
import type { EventRow, HandlerLogRow, LinkRow, syncLogs } from "../db/schema";
import { saveOutcomes } from "../db/sync.repo";
import { eventRows, type EventData } from "../events/emit";
import { noCounts, type RunCounts } from "../db/vocabulary";
import type { Integration } from "../integrations/store";

export type LogRow = typeof syncLogs.$inferInsert;

/** A log line's words: what was done, how it went, why, and on which record. */
export interface Why {
  action: LogRow["action"];
  status: LogRow["status"];
  detail: string | null;
  remoteId?: string | null;
}

/**
 * What a push decided, person by person: the links to write, one log line per action,
 * the counts, and the links to forget. Planning, matching and applying add to it; it is
 * written in one batch at the end (what a create made is written as soon as it answers).
 * The `after` handler's events (`user.synced`, `user.failed`, `user.excluded`) follow from
 * the log lines and go into the same batches; `emitted` holds them for the queue.
 */
export class Outcomes {
  readonly counts: RunCounts = noCounts();
  readonly links: LinkRow[] = [];
  readonly logs: LogRow[] = [];
  /** People whose link is deleted (a removed record, an inactive person never synced). */
  readonly removed: string[] = [];
  /** What the `before` handler skipped or failed on. */
  readonly handlerLogs: HandlerLogRow[] = [];
  /** Events stored by the saves so far, to queue once they are written. */
  readonly emitted: EventRow[] = [];

  constructor(
    readonly integration: Integration,
    readonly now: number,
    private readonly stored: Map<string, LinkRow>,
    /** The people's e-mails, for the events. */
    private readonly emails: Map<string, string> = new Map(),
    /** Whether the log lines make `after` events: a push's do; a pull's (the directory's own side) do not. */
    private readonly opts: { events: boolean } = { events: true },
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

  /**
   * One decision about a person, as every step of a push records it: counted under
   * `count` (none for a decision that only explains), the person's link changed by `link`,
   * and the log line `why`. A step leaves out the link or the line when nothing changed.
   */
  decide(userId: string, count: keyof RunCounts | null, change: { link?: Partial<LinkRow>; why?: Why } = {}): void {
    if (count) this.counts[count]++;
    if (change.link) this.link(userId, change.link);
    if (change.why) this.log(userId, change.why.action, change.why.status, change.why.detail, change.why.remoteId ?? null);
  }

  log(userId: string | null, action: LogRow["action"], status: LogRow["status"], detail: string | null, remoteId: string | null = null): void {
    this.logs.push({ tenantId: this.integration.tenantId, integrationId: this.integration.id, userId, action, status, remoteId, detail, at: this.now });
  }

  handlerLog(userId: string, status: "skipped" | "failed", detail: string): void {
    this.handlerLogs.push({ tenantId: this.integration.tenantId, integrationId: this.integration.id, kind: "before", userId, status, detail, at: this.now });
  }

  /** The events the log lines call for, for an integration whose `after` handler subscribes. */
  private eventsOf(logs: LogRow[]): EventRow[] {
    if (!this.opts.events) return [];
    // Each person's link as last decided (later entries win).
    const last = new Map(this.links.map((l) => [l.userId, l]));
    const linkOf = (userId: string) => last.get(userId);
    const synced: EventData["user.synced"][] = [];
    const failed: EventData["user.failed"][] = [];
    const excluded: EventData["user.excluded"][] = [];
    for (const log of logs) {
      const userId = log.userId;
      if (!userId) continue;
      const email = this.emails.get(userId) ?? null;
      if (log.status === "ok" && log.action !== "skip") synced.push({ userId, email, action: log.action, remoteId: log.remoteId ?? null, remoteUrl: linkOf(userId)?.remoteUrl ?? null });
      else if (log.status === "failed") failed.push({ userId, email, error: log.detail ?? "failed" });
      else if (log.action === "skip" && linkOf(userId)?.status === "excluded") excluded.push({ userId, reason: log.detail ?? "excluded" });
    }
    return [...eventRows(this.integration, "user.synced", synced, this.now), ...eventRows(this.integration, "user.failed", failed, this.now), ...eventRows(this.integration, "user.excluded", excluded, this.now)];
  }

  /** The event and handler log statements for log lines about to be written. */
  private handlerStatements(db: Db, logs: LogRow[]): BatchItem<"sqlite">[] {
    const events = this.eventsOf(logs);
    this.emitted.push(...events);
    return [...insertEventsStatements(db, events), ...handlerLogStatements(db, this.handlerLogs.splice(0))];
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
    const logs = this.logs.splice(mark.logs);
    await saveOutcomes(db, this.links.slice(mark.links), logs, null, this.handlerStatements(db, logs));
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
    await saveOutcomes(db, this.links, this.logs, removedLinks, [...alongside, ...this.handlerStatements(db, this.logs)]);
  }
}
