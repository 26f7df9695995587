import { connector } from "../../../connectors";
import type { Choice } from "../../../connectors/contract";
import type { Db } from "../../../db/client";
import { getUser } from "../../../db/directory.repo";
import { listHandlerLogs } from "../../../db/events.repo";
import { userView } from "../../../directory/user";
import { expressionProblem } from "../../../lib/expressions";
import { beforeHandler } from "../../../sync/mapping";
import type { TryResult } from "./handlers";
import { groupsOfIntegration } from "../../../db/groups.repo";
import { linkStats } from "../../../db/integrations.repo";
import { listRuns } from "../../../db/runs.repo";
import type { Env } from "../../../env";
import { networksAction } from "../../../http/actions";
import { allowedProviders } from "../../../integrations/allowed";
import { pullStatus } from "../../../integrations/source-status";
import { listIntegrations, type Integration } from "../../../integrations/store";
import { AppError } from "../../../lib/errors";
import type { Dash } from "../session";
import type { IntegrationData, OverviewData } from "./views";

/** What the integrations' pages show, loaded here: the views (`views.tsx`) get it as props and query nothing. */

export async function loadOverview(c: Dash): Promise<OverviewData> {
  const db = c.get("db");
  const all = await listIntegrations(db, c.get("tenant").id, null, 200);
  const stats = new Map(await Promise.all(all.map(async (i) => [i.id, await linkStats(db, i.id)] as const)));
  return { all, stats, allowed: allowedProviders(c.get("tenant")) };
}

/** The integration's stats, latest runs, pulls, managed groups, the account's networks (a live call) and handler logs. */
export async function loadIntegration(db: Db, env: Env, integration: Integration): Promise<IntegrationData> {
  const def = connector(integration.provider);
  const [stats, runs, source, managed, choices, handlerLogs] = await Promise.all([
    linkStats(db, integration.id),
    listRuns(db, integration.tenantId, { integrationId: integration.id }, null, 5),
    pullStatus(db, integration),
    def.push?.groups ? groupsOfIntegration(db, integration.id) : Promise.resolve([]),
    def.networks ? networksFor(db, env, integration) : Promise.resolve(null),
    listHandlerLogs(db, integration, {}, null, 20),
  ]);
  return { stats, runs, source, managed, choices, handlerLogs };
}


/** The account's networks for the chooser, or why they cannot be listed now. */
async function networksFor(db: Db, env: Env, integration: Integration): Promise<{ networks: Choice[] | null; problem: string | null }> {
  if (!integration.connection) return { networks: null, problem: null };
  try {
    return { networks: await networksAction(db, env, integration), problem: null };
  } catch (err) {
    if (err instanceof AppError) return { networks: null, problem: err.message };
    throw err;
  }
}

/** "Try it on a person": the expression (saved or not) on one directory person, nothing synced. */
export async function tryBeforeHandler(db: Db, integration: Integration, expr: string, userId: string): Promise<TryResult> {
  const row = userId ? await getUser(db, integration.tenantId, userId) : null;
  if (!row) return { userId, input: null, output: null, message: userId ? `No one in your directory has the id ${userId}.` : "Give a person's id." };
  const user = userView(row);
  const input = { user, integration: { id: integration.id, name: integration.name, provider: integration.provider } };
  if (!expr) return { userId, input, output: user, message: "No before expression: the person is synced as they are." };
  const problem = expressionProblem(expr);
  if (problem) return { userId, input, output: null, message: problem };
  const result = await beforeHandler(expr, user, input.integration);
  return "skipped" in result ? { userId, input, output: null, message: result.message } : { userId, input, output: result.user, message: null };
}
