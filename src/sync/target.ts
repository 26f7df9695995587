import { connector, type PushConnector } from "../connectors";
import type { ConnectorFacts } from "../connectors/contract";
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
