import type { Integration } from "../../../integrations/store";
import type { Dash } from "../session";
import { loadRunsPage, loadRunPage, loadLogsPage } from "./loaders";
import { RunsPageView, RunPageView, LogsPageView } from "./views";

/** Each page: its loader, then its view. */

export async function RunsPage(props: { c: Dash; integrationId: string | undefined; cursor: string | undefined }) {
  const data = await loadRunsPage(props);
  return <RunsPageView {...props} data={data} />;
}

export async function RunPage(props: { c: Dash; runId: string; notice?: string | undefined }) {
  const data = await loadRunPage(props);
  return data === null ? null : <RunPageView {...props} data={data} />;
}

export async function LogsPage(props: { c: Dash; integration: Integration; filter: { userId?: string; action?: string; status?: string }; before: number | null }) {
  const data = await loadLogsPage(props);
  return <LogsPageView {...props} data={data} />;
}
