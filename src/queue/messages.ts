import type { ChangeReason } from "../lib/change";

/** Why a person is being pushed; kept on the message for logs and runs. */
export type JobReason = ChangeReason;

/**
 * A queue message naming (integration, record, reason). Consumers re-read the directory
 * and the link, so duplicates and reordering are harmless (DESIGN.md, "Job").
 */
export interface PushJob {
  kind: "push";
  tenantId: string;
  integrationId: string;
  userId: string;
  /** The directory version that caused the job; informational, the consumer re-reads. */
  version: number;
  reason: JobReason;
  /**
   * "now" when a change that arrived alone sent it to `JOBS`, which delivers at once.
   * Absent on `PUSH_BATCHES` (bursts and imports), whose window fills batches.
   */
  lane?: "now";
}

/**
 * One page of a run (resync, reconciliation). Pages run one after another: each names
 * its number, and the run row says which page is next, so a redelivered message is
 * recognised. Where the page starts is kept on the run, not on the message.
 */
export interface RunPageJob {
  kind: "run";
  tenantId: string;
  /** Null for an import's pages: they change the directory, not one integration. */
  integrationId: string | null;
  runId: string;
  page: number;
}

/**
 * One attempt at delivering a stored event to an `after` handler. The event row says how
 * many attempts were made, so a message for an attempt already made is recognised.
 */
export interface EventJob {
  kind: "event";
  tenantId: string;
  eventId: string;
  /** The attempt this message makes, from 1. */
  attempt: number;
}

/**
 * One step of planning a file picked up from the R2 inbox. The import row says which step
 * is next, so a message for a step already made is recognised; the plan's state between
 * steps is kept in R2.
 */
export interface ImportPlanJob {
  kind: "plan";
  tenantId: string;
  importId: string;
  step: number;
}

export type JobMessage = PushJob | RunPageJob | EventJob | ImportPlanJob;
