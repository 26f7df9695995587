import type { UsersPageData, UserPageData, UnmatchedPageData } from "./loaders";
import { connector } from "../../../connectors";
import type { Integration } from "../../../integrations/store";
import { Badge, Csrf, Page, PostButton, when } from "../layout";
import type { Dash } from "../session";


/** "Open in Zoho CRM": the record URL, named for the integration's provider. */
function RecordLink({ url, provider }: { url: string | null; provider: string }) {
  if (!url) return null;
  return (
    <a href={url} target="_blank" rel="noopener noreferrer" class="record-link">
      Open in {connector(provider).facts.name}
    </a>
  );
}

/** `/dashboard/users`: search, each person with their links. */
export function UsersPageView({ c, q, after, data }: { c: Dash; q: string; after: string | null } & { data: UsersPageData }) {
  const { users, next, links, names } = data;
  return (
    <Page c={c} title="Users" section="users">
      <h1>Users</h1>
      <form method="get" action="/dashboard/users" role="search" class="row">
        <div>
          <label for="q">Search by e-mail or name</label>
          <input type="search" id="q" name="q" value={q} />
        </div>
        <button type="submit">Search</button>
      </form>
      {users.length ? (
        <div class="scroll">
          <table>
            <caption class="sr-only">People in the directory and their links</caption>
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Status</th>
                <th scope="col">Integrations</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr data-user={u.id}>
                  <td>
                    <a href={`/dashboard/users/${encodeURIComponent(u.id)}`}>{[u.firstName, u.lastName].filter(Boolean).join(" ") || u.email}</a>
                    <br />
                    <span class="muted">{u.email}</span>
                  </td>
                  <td>
                    <Badge value={u.status} />
                  </td>
                  <td>
                    {links.filter((l) => l.userId === u.id).length ? (
                      <ul>
                        {links
                          .filter((l) => l.userId === u.id)
                          .map((l) => (
                            <li>
                              {names.get(l.integrationId) ?? l.provider}: <Badge value={l.status} /> <RecordLink url={l.remoteUrl} provider={l.provider} />
                              {l.lastError ? <span class="error"> {l.lastError}</span> : null}
                            </li>
                          ))}
                      </ul>
                    ) : (
                      <span class="empty">not synced anywhere yet</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="empty">{q ? `No one matches “${q}”.` : "The directory is empty: people appear here as soon as your app sends them (a webhook or the REST API)."}</p>
      )}
      {next ? (
        <p>
          <a href={`/dashboard/users?${new URLSearchParams({ ...(q ? { q } : {}), after: next })}`}>Next page</a>
        </p>
      ) : null}
    </Page>
  );
}

/** `/dashboard/users/{id}`: one person, their links and their recent log lines. */
export function UserPageView({ c, userId, data }: { c: Dash; userId: string } & { data: UserPageData }) {
  const { user, links, logs, byId } = data;
  return (
    <Page c={c} title={user.email} section="users">
      <h1>{[user.firstName, user.lastName].filter(Boolean).join(" ") || user.email}</h1>
      <section class="card">
        <dl class="facts">
          <dt>E-mail</dt>
          <dd>{user.email}</dd>
          <dt>Id in your app</dt>
          <dd>{user.id}</dd>
          <dt>Status</dt>
          <dd>
            <Badge value={user.status} />
          </dd>
          <dt>Version</dt>
          <dd>{user.version}</dd>
        </dl>
      </section>
      <section class="card" aria-labelledby="h-links">
        <h2 id="h-links">Links</h2>
        {links.length ? (
          <ul>
            {links.map((l) => {
              const integration = byId.get(l.integrationId);
              return (
                <li class="actions">
                  <span>
                    {integration?.name ?? l.provider}: <Badge value={l.status} /> <RecordLink url={l.remoteUrl} provider={l.provider} />
                  </span>
                  {l.lastError ? <span class="error">{l.lastError}</span> : null}
                  {integration && integration.status === "active" && l.status !== "synced" ? (
                    <PostButton c={c} action={`/dashboard/integrations/${l.integrationId}/resync`} label="Resync this person" kind="secondary" fields={{ userId: user.id }} />
                  ) : null}
                  {integration && l.remoteId ? (
                    <PostButton c={c} action={`/dashboard/integrations/${l.integrationId}/links/${encodeURIComponent(user.id)}/unlink`} label="Unlink" kind="secondary" />
                  ) : null}
                </li>
              );
            })}
          </ul>
        ) : (
          <p class="empty">Not linked to any integration yet.</p>
        )}
      </section>
      <section class="card" aria-labelledby="h-log">
        <h2 id="h-log">Recent activity</h2>
        <LogTable rows={logs.map((l) => ({ ...l, integration: byId.get(l.integrationId)?.name ?? l.integrationId }))} />
      </section>
    </Page>
  );
}

export function LogTable({ rows }: { rows: { id: number; at: number; integration?: string; userId: string | null; action: string; status: string; detail: string | null; remoteId: string | null }[] }) {
  if (!rows.length) return <p class="empty">Nothing logged yet.</p>;
  return (
    <div class="scroll">
      <table>
        <caption class="sr-only">Sync log</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            {rows[0]!.integration !== undefined ? <th scope="col">Integration</th> : null}
            <th scope="col">Person</th>
            <th scope="col">Action</th>
            <th scope="col">Result</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              <td>{when(r.at)}</td>
              {r.integration !== undefined ? <td>{r.integration}</td> : null}
              <td>{r.userId ? <a href={`/dashboard/users/${encodeURIComponent(r.userId)}`}>{r.userId}</a> : "—"}</td>
              <td>{r.action}</td>
              <td>
                <Badge value={r.status === "ok" ? "synced" : r.status} />
              </td>
              <td>{r.detail ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** `/dashboard/integrations/{id}/unmatched`: people without a record and records without a person, to link by hand. */
export function UnmatchedPageView({ c, integration, notice, data }: { c: Dash; integration: Integration; notice?: string | undefined } & { data: UnmatchedPageData }) {
  const { local, remote, manual, name, base } = data;
  return (
    <Page
      c={c}
      title={`Unmatched — ${integration.name}`}
      section="integrations"
      notice={notice ? <p class="notice" role="status">{notice}</p> : undefined}
    >
      <h1>Unmatched: {integration.name}</h1>
      <p>
        <a href={base}>Back to {integration.name}</a>
      </p>
      <section class="card" aria-labelledby="h-local">
        <h2 id="h-local">People without a {name} record</h2>
        {local.length ? (
          <ul>
            {local.map(({ user, lastError }) => (
              <li data-unmatched-user={user.id}>
                <strong>{[user.firstName, user.lastName].filter(Boolean).join(" ") || user.email}</strong> ({user.email})
                {lastError ? <p class="muted">{lastError}</p> : null}
                {remote.length ? (
                  <form method="post" action={`${base}/links/${encodeURIComponent(user.id)}`} class="row">
                    <Csrf c={c} />
                    <div>
                      <label for={`record-${user.id}`}>Link {user.email} to</label>
                      <input type="text" id={`record-${user.id}`} name="remoteId" list="unmatched-records" required placeholder="type to search, or pick a record" />
                    </div>
                    <button type="submit">Link</button>
                  </form>
                ) : (
                  <p class="muted">No unlinked {name} record is known: a reconciliation lists them.</p>
                )}
              </li>
            ))}
          </ul>
        ) : (
          <p class="empty">Everyone in scope has a record.</p>
        )}
        <datalist id="unmatched-records">
          {remote.map((r) => (
            <option value={r.remoteId}>{`${r.name ?? ""} ${r.email ?? ""}`.trim()}</option>
          ))}
        </datalist>
      </section>
      <section class="card" aria-labelledby="h-remote">
        <h2 id="h-remote">{name} records without a person</h2>
        {remote.length ? (
          <ul>
            {remote.map((r) => (
              <li>
                {r.name ?? "(no name)"} {r.email ? `(${r.email})` : ""} <span class="muted">{r.remoteId}</span> <RecordLink url={r.remoteUrl} provider={integration.provider} />
              </li>
            ))}
          </ul>
        ) : (
          <p class="empty">None known. A reconciliation lists the records no one matched.</p>
        )}
      </section>
      <section class="card" aria-labelledby="h-manual">
        <h2 id="h-manual">Linked by hand</h2>
        {manual.length ? (
          <ul>
            {manual.map(({ link, email }) => (
              <li class="actions">
                <span>
                  {email} → {link.remoteId} <RecordLink url={link.remoteUrl} provider={integration.provider} />
                </span>
                <PostButton c={c} action={`${base}/links/${encodeURIComponent(link.userId)}/unlink`} label="Unlink" kind="secondary" />
              </li>
            ))}
          </ul>
        ) : (
          <p class="empty">No one is linked by hand.</p>
        )}
      </section>
    </Page>
  );
}
