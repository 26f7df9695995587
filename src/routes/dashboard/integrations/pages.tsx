import type { Dash } from "../session";
import { loadIntegration, loadOverview } from "./loaders";
import { IntegrationsOverviewView, IntegrationView, type IntegrationPageProps } from "./views";

/** Each page: its loader, then its view. */

export async function IntegrationsOverview({ c, deleted }: { c: Dash; deleted?: boolean }) {
  return <IntegrationsOverviewView c={c} deleted={deleted} data={await loadOverview(c)} />;
}

export async function IntegrationPage(props: IntegrationPageProps) {
  return <IntegrationView {...props} data={await loadIntegration(props.c.get("db"), props.c.env, props.integration)} />;
}
