import type { Connector } from "../connectors";
import type { Integration } from "./store";
import { AppError } from "../lib/errors";
import type { ProviderConfig } from "../lib/config";

// States (API.md): pending → active once connected and configured; active ⇄ deactivated;
// delete is final. A rejected refresh token sends an integration back to pending with
// the action `reconnect`.

/** What still has to happen before the integration can run. */
export function pendingActionsFor(def: Connector, config: ProviderConfig, connected: boolean, reconnect: boolean): string[] {
  const actions: string[] = [];
  if (!connected) actions.push(reconnect ? "reconnect" : "connect");
  actions.push(...def.config.missing(config));
  return actions;
}

/** The status that follows from the actions: a pending integration with none left becomes active. */
export function statusFor(current: Integration["status"], actions: string[]): Integration["status"] {
  if (actions.length) return current === "deactivated" ? "deactivated" : "pending";
  return current === "pending" ? "active" : current;
}

export type Transition = "activate" | "deactivate";

/** Checks a requested transition; 409 with the reason when it is not allowed now. */
export function assertTransition(integration: Integration, transition: Transition): void {
  if (transition === "deactivate" && integration.status !== "active") {
    throw AppError.conflict(`Only an active integration can be deactivated; this one is ${integration.status}.`);
  }
  if (transition === "activate") {
    if (integration.status === "active") throw AppError.conflict("The integration is already active.");
    if (integration.status === "pending") {
      throw AppError.conflict(`The integration cannot run yet: ${integration.pendingActions.join(", ") || "it is pending"}.`);
    }
    if (integration.pendingActions.length) {
      throw AppError.conflict(`The integration cannot run yet: ${integration.pendingActions.join(", ")}.`);
    }
  }
}
