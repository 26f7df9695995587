import type { RunsPageData, RunPageData, LogsPageData } from "./loaders";
import { raw } from "hono/html";
import { runView } from "../../../db/runs.repo";
import { COUNT_KEYS, LOG_ACTIONS } from "../../../db/vocabulary";
import type { Integration } from "../../../integrations/store";
import { Badge, Page, PostButton } from "../layout";
import { LogTable } from "../people/views";
import type { Dash } from "../session";


/** `/dashboard/runs`: runs, newest first, optionally of one integration. */
export function RunsPageView({ c, integrationId, cursor, data }: { c: Dash; integrationId: string | undefined; cursor: string | undefined } & { data: RunsPageData }) {
  const { runs, names, next } = data;
  return (
    <Page c={c} title="Runs" section="runs">
      <h1>Runs</h1>
      {runs.length ? (
        <div class="scroll">
          <table>
            <caption class="sr-only">Runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Integration</th>
                <th scope="col">Status</th>
                <th scope="col">Started</th>
                <th scope="col">Counts</th>
              </tr>
            </thead>
            <tbody>
              {runs.map(runView).map((r) => (
                <tr>
                  <td>
                    <a href={`/dashboard/runs/${r.id}`}>{r.kind}</a> <span class="muted">({r.trigger})</span>
                  </td>
                  <td>{r.integrationId ? (names.get(r.integrationId) ?? r.integrationId) : "—"}</td>
                  <td>
                    <Badge value={r.status} />
                  </td>
                  <td>{r.startedAt}</td>
                  <td>{countsLine(r.counts)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="empty">No runs yet. Connecting an integration starts the first one; Resync users on an integration's page starts another.</p>
      )}
      {next ? (
        <p>
          <a href={`/dashboard/runs?${new URLSearchParams({ ...(integrationId ? { integrationId } : {}), cursor: next })}`}>Older runs</a>
        </p>
      ) : null}
    </Page>
  );
}

function countsLine(counts: Record<string, number>): string {
  const parts = COUNT_KEYS.filter((k) => counts[k]).map((k) => `${counts[k]} ${k}`);
  return parts.length ? parts.join(" · ") : "nothing yet";
}

/**
 * While a run is running, a few lines of plain script ask `GET /v1/runs/{id}` (the session
 * cookie authenticates it) every 1.5 s and update the status and counts in place; when it
 * ends, the page reloads to show the outcome. Without script the page says to reload.
 */
const LIVE = (id: string) => `
(function () {
  var status = document.getElementById("run-status");
  function tick() {
    fetch("/v1/runs/${id}", { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (run) {
        if (!run) return setTimeout(tick, 3000);
        Object.keys(run.counts).forEach(function (k) {
          var cell = document.querySelector('[data-count="' + k + '"]');
          if (cell) cell.textContent = String(run.counts[k]);
        });
        if (run.status !== "running") { location.reload(); return; }
        status.textContent = "running";
        setTimeout(tick, 1500);
      })
      .catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 1000);
})();`;

/** `/dashboard/runs/{id}`: a run's progress, counts and outcome; a held run offers Approve and Cancel. */
export function RunPageView({ c, notice, data }: { c: Dash; runId: string; notice?: string | undefined } & { data: RunPageData }) {
  const { run, integration, open } = data;
  return (
    <Page c={c} title={`Run ${run.kind}`} section="runs" notice={notice ? <p class="notice" role="status">{notice}</p> : undefined}>
      <h1>
        {run.kind === "resync" ? "Resync" : run.kind === "reconcile" ? "Reconciliation" : run.kind === "import" ? "Import" : run.kind === "pull" ? "Pull" : run.kind} of {integration?.name ?? (run.kind === "import" ? "a CSV file into the directory" : "a deleted integration")}
      </h1>
      <section class="card" aria-labelledby="h-run">
        <h2 id="h-run">
          Status: <span id="run-status" class={`badge ${run.status}`} aria-live="polite">{run.status}</span>
        </h2>
        <dl class="facts">
          <dt>Started</dt>
          <dd>
            {run.startedAt} ({run.trigger})
          </dd>
          <dt>Finished</dt>
          <dd id="run-finished">{run.finishedAt ?? "—"}</dd>
          {run.userIds ? (
            <>
              <dt>People</dt>
              <dd>{run.userIds.join(", ")}</dd>
            </>
          ) : null}
        </dl>
        {run.detail ? (
          <p class={`notice ${run.status === "held" ? "warn" : run.status === "failed" ? "bad" : ""}`} id="run-detail">
            {run.detail}
          </p>
        ) : null}
        <table id="run-counts">
          <caption>Counts</caption>
          <tbody>
            {COUNT_KEYS.map((k) => (
              <tr>
                <th scope="row">{k}</th>
                <td data-count={k}>{run.counts[k]}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {run.status === "running" ? (
          <>
            <p class="muted">This page follows the run as it goes. Without JavaScript, reload it to see progress.</p>
            <script>{raw(LIVE(run.id))}</script>
          </>
        ) : null}
        {open ? (
          <div class="actions">
            {run.status === "held" ? <PostButton c={c} action={`/dashboard/runs/${run.id}/approve`} label="Approve" id="approve" /> : null}
            <PostButton c={c} action={`/dashboard/runs/${run.id}/cancel`} label="Cancel the run" kind="secondary" id="cancel" />
          </div>
        ) : null}
        {integration ? (
          <p>
            <a href={`/dashboard/integrations/${integration.id}`}>Back to {integration.name}</a>
          </p>
        ) : run.kind === "import" ? (
          <p>
            <a href="/dashboard/imports">Back to imports</a>
          </p>
        ) : null}
      </section>
    </Page>
  );
}

/** `/dashboard/integrations/{id}/logs`: the sync log, filtered by person, action and result, newest first. */
export function LogsPageView({ c, integration, filter, before, data }: { c: Dash; integration: Integration; filter: { userId?: string; action?: string; status?: string }; before: number | null } & { data: LogsPageData }) {
  const { action, status, shown, next, base, query } = data;
  return (
    <Page c={c} title={`Sync log — ${integration.name}`} section="integrations">
      <h1>Sync log: {integration.name}</h1>
      <p>
        <a href={`/dashboard/integrations/${integration.id}`}>Back to {integration.name}</a>
      </p>
      <form method="get" action={base} class="row" role="search">
        <div>
          <label for="log-user">Person (id)</label>
          <input type="text" id="log-user" name="userId" value={filter.userId ?? ""} />
        </div>
        <div>
          <label for="log-action">Action</label>
          <select id="log-action" name="action">
            <option value="">any</option>
            {LOG_ACTIONS.map((a) => (
              <option value={a} selected={a === action}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="log-status">Result</label>
          <select id="log-status" name="status">
            <option value="">any</option>
            {["ok", "failed", "skipped"].map((s) => (
              <option value={s} selected={s === status}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Filter</button>
      </form>
      <LogTable rows={shown} />
      {next ? (
        <p>
          <a href={`${base}?${query({ before: String(next) })}`}>Older lines</a>
        </p>
      ) : null}
    </Page>
  );
}
