import type { Integration } from "../integrations/store";
import { canRun } from "../sync/target";

/**
 * Whether an integration's jobs may run now, decided in one place for push jobs and run
 * pages: `run`; `wait` (paused after a throttle or a refused request); `park` (its people
 * wait as pending links: waiting for a reconnect, or a provider that does not push yet);
 * `drop` (deleted, deactivated or never connected: nothing to do).
 */
export type Gate = { kind: "run"; integration: Integration } | { kind: "wait"; seconds: number } | { kind: "park"; reason: string } | { kind: "drop"; reason: string };

export function gateOf(integration: Integration | null, now = Date.now()): Gate {
  if (!integration) return { kind: "drop", reason: "The integration was deleted." };
  if (integration.status === "deactivated") return { kind: "drop", reason: "The integration is deactivated." };
  if (integration.status === "pending") {
    return integration.pendingActions.includes("reconnect")
      ? { kind: "park", reason: "The integration waits to be reconnected." }
      : { kind: "drop", reason: "The integration is not connected." };
  }
  if (integration.pausedUntil && integration.pausedUntil > now) return { kind: "wait", seconds: Math.ceil((integration.pausedUntil - now) / 1000) };
  if (!canRun(integration)) return { kind: "park", reason: "This provider's connector does not push yet." };
  return { kind: "run", integration };
}
