import { connector } from "../../../connectors";
import { getUser, linksOfUsers, listUsers } from "../../../db/directory.repo";
import { linksWithEmail, unmatchedPeople, unmatchedRecords } from "../../../db/links.repo";
import { listLogs } from "../../../db/logs.repo";
import { listIntegrations, type Integration } from "../../../integrations/store";
import type { Dash } from "../session";

/** People (or runs, or log lines) a page lists. */
const PAGE = 50;

/** What the pages of this folder show, loaded here: the views (`views.tsx`) get it as props and query nothing. */

export async function loadUsersPage({ c, q, after }: { c: Dash; q: string; after: string | null }) {
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const rows = await listUsers(db, tenantId, { q: q || undefined, after, limit: PAGE + 1 });
  const users = rows.slice(0, PAGE);
  const next = rows.length > PAGE ? users.at(-1)!.id : null;
  const links = await linksOfUsers(db, tenantId, users.map((u) => u.id));
  const names = new Map((await listIntegrations(db, tenantId, null, 200)).map((i) => [i.id, i.name]));
  return { users, next, links, names };
}

export type UsersPageData = NonNullable<Awaited<ReturnType<typeof loadUsersPage>>>;

export async function loadUserPage({ c, userId }: { c: Dash; userId: string }) {
  const db = c.get("db");
  const tenantId = c.get("tenant").id;
  const user = await getUser(db, tenantId, userId);
  if (!user) return null;
  const [links, integrations] = await Promise.all([linksOfUsers(db, tenantId, [userId]), listIntegrations(db, tenantId, null, 200)]);
  const logs = (await Promise.all(integrations.map((i) => listLogs(db, i, { userId }, null, 20)))).flat().sort((a, b) => b.at - a.at).slice(0, 30);
  const byId = new Map(integrations.map((i) => [i.id, i]));
  return { user, links, integrations, logs, byId };
}

export type UserPageData = NonNullable<Awaited<ReturnType<typeof loadUserPage>>>;

export async function loadUnmatchedPage({ c, integration }: { c: Dash; integration: Integration; notice?: string | undefined }) {
  const db = c.get("db");
  const [local, remote, manual] = await Promise.all([
    unmatchedPeople(db, integration, 500),
    unmatchedRecords(db, integration, 500),
    linksWithEmail(db, integration, {}, 500).then((rows) => rows.filter((r) => r.link.manual === "linked")),
  ]);
  const name = connector(integration.provider).facts.name;
  const base = `/dashboard/integrations/${integration.id}`;
  return { local, remote, manual, name, base };
}

export type UnmatchedPageData = NonNullable<Awaited<ReturnType<typeof loadUnmatchedPage>>>;
