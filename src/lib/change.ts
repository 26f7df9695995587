import type { UserRef } from "./user-fields";

/**
 * What every source produces: webhooks and the REST API today, CSV imports, provider
 * pulls and SCIM later. The directory applies each one through the same path
 * (`applyChange`: stale guard, replay guard, fan-out to the integrations).
 */
/** Why a person changed, kept on their push jobs for logs and runs. */
export type ChangeReason = "webhook" | "rest" | "resync" | "reconcile" | "import" | "pull" | "sweep";

/** What a source asks of one person. */
export type ChangeKind = "upsert" | "disable" | "delete";

export interface Change {
  kind: ChangeKind;
  /** The full user for `upsert`; for `disable`/`delete` at least the id. */
  user: UserRef;
  /**
   * The source's time of the change (epoch ms): `data.updatedAt`, else the event's
   * timestamp; null when the source gave none (a REST PUT without `updatedAt`), which
   * then keeps the stored time rather than claim the hub's clock.
   */
  at: number | null;
  reason: ChangeReason;
  /** Set for webhooks: recorded in the same batch, keyed by `webhook-id`. */
  webhook?: { id: string; type: string; body: string };
}
