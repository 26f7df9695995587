import { connector, type PushConnector } from "../connectors";
import type { ConnectorFacts, PullConnector } from "../connectors/contract";
import type { Integration } from "../integrations/store";

/** A connected integration whose provider takes records: its facts and how to push. */
export interface Target {
  facts: ConnectorFacts;
  push: PushConnector;
}

/** The integration's target, or null when its provider does not push or it is not connected. */
export function targetOf(integration: Integration): Target | null {
  const c = connector(integration.provider);
  return c.push && integration.connection ? { facts: c.facts, push: c.push } : null;
}

/** Whether jobs, runs and manual links can push this integration's people. */
export function canPush(integration: Integration): boolean {
  return targetOf(integration) !== null;
}

/** A connected integration whose provider is read from: its facts and how to pull. */
export interface Source {
  facts: ConnectorFacts;
  pull: PullConnector;
}

/** The integration's source, or null when its provider is not read from or it is not connected. */
export function sourceOf(integration: Integration): Source | null {
  const c = connector(integration.provider);
  return c.pull && integration.connection ? { facts: c.facts, pull: c.pull } : null;
}

/** Whether the integration has work the hub can do: push to it, or pull from it. */
export function canRun(integration: Integration): boolean {
  return canPush(integration) || sourceOf(integration) !== null;
}
