import type { linkStats } from "../../../db/integrations.repo";
import type { ProviderId } from "../../../connectors";
import type { RunRow } from "../../../db/schema";
import type { HandlerLogView } from "./handlers";
import { CONNECTORS, connector } from "../../../connectors";
import { runView } from "../../../db/runs.repo";
import { defaultConfig } from "../../../integrations/config";
import type { Integration } from "../../../integrations/store";
import { USER_FIELDS, type MappingEntry, type ResolvedConfig, type ScopeRule } from "../../../lib/config";
import type { Connection } from "../../../lib/connection";
import type { FieldError } from "../../../lib/errors";
import { HandlersSection, type HandlersDraft, type TestResult, type TryResult } from "./handlers";
import { Badge, Csrf, FieldErrors, Page, PostButton } from "../layout";
import type { Dash } from "../session";
import { GroupRulesCard, groupRuleRows, Limitations, NetworkCard, PullCard, pullValues, type GroupPreview, type GroupRuleDraft } from "./cards";
import { pullStatus } from "../../../integrations/source-status";
import type { Choice, ConnectorFacts } from "../../../connectors/contract";

type Stats = Awaited<ReturnType<typeof linkStats>>;

const PENDING_WORDS: Record<string, string> = {
  connect: "connect the account",
  reconnect: "connect the account again",
  configure: "finish the settings",
  "choose-network": "choose the network people are invited to",
  "review-group-rules": "review the group rules and save them",
};

/** What the overview shows: the tenant's integrations with their link counts, and the providers it may enable. */
export interface OverviewData {
  all: Integration[];
  stats: Map<string, Awaited<ReturnType<typeof linkStats>>>;
  allowed: readonly ProviderId[];
}

/** `/dashboard`: the tenant's integrations by state, and the providers not enabled yet. */
export function IntegrationsOverviewView({ c, deleted, data }: { c: Dash; deleted?: boolean; data: OverviewData }) {
  const { all, stats } = data;
  const enabled = new Set(all.map((i) => i.provider));
  const groups: { title: string; id: string; items: Integration[]; empty: string }[] = [
    { title: "Pending actions", id: "pending", items: all.filter((i) => i.status === "pending"), empty: "Nothing is waiting for you." },
    { title: "Active", id: "active", items: all.filter((i) => i.status === "active"), empty: "No integration is active yet: enable one below and connect it." },
    { title: "Deactivated", id: "deactivated", items: all.filter((i) => i.status === "deactivated"), empty: "None." },
  ];
  // Only the providers the operator lets this organisation enable.
  const available = data.allowed.filter((id) => !enabled.has(id));
  return (
    <Page c={c} title="Integrations" section="integrations" notice={deleted ? <p class="notice" role="status">The integration was deleted; its records at the provider were left as they are.</p> : undefined}>
      <h1>Integrations</h1>
      {groups.map((g) => (
        <section class="card" aria-labelledby={`group-${g.id}`}>
          <h2 id={`group-${g.id}`}>{g.title}</h2>
          {g.items.length ? (
            <ul>
              {g.items.map((i) => (
                <li>
                  <a href={`/dashboard/integrations/${i.id}`}>{i.name}</a> <Badge value={i.status} />{" "}
                  {i.pendingActions.length ? <span>Left to do: {i.pendingActions.map((a) => PENDING_WORDS[a] ?? a).join("; ")}.</span> : null}{" "}
                  <span class="muted">{statsLine(stats.get(i.id)!)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p class="empty">{g.empty}</p>
          )}
        </section>
      ))}
      <section class="card" aria-labelledby="group-available">
        <h2 id="group-available">Available</h2>
        {available.length ? (
          <ul>
            {available.map((id) => {
              const c2 = CONNECTORS[id];
              return (
                <li class="actions">
                  <span>
                    <strong>{c2.facts.name}</strong> <span class="muted">({directionWords(c2.facts.direction)})</span>
                  </span>
                  <PostButton c={c} action="/dashboard/integrations" label={`Enable ${c2.facts.name}`} fields={{ provider: id }} kind="secondary" />
                </li>
              );
            })}
          </ul>
        ) : (
          <p class="empty">Every provider is enabled.</p>
        )}
      </section>
    </Page>
  );
}

function directionWords(direction: "push" | "pull" | "two-way"): string {
  return direction === "push" ? "people go to it" : direction === "pull" ? "people come from it" : "both ways";
}

function statsLine(s: Stats): string {
  return `${s.synced} synced · ${s.pending} pending · ${s.invited ? `${s.invited} invited · ` : ""}${s.failed} failed · ${s.excluded} excluded · ${s.unmatched} unmatched`;
}

/** The connection's facts as the page shows them. */
function ConnectionFacts({ connection, status }: { connection: Connection | null; status: string }) {
  return (
    <dl class="facts" id="connection">
      <dt>Status</dt>
      <dd id="status">{status}</dd>
      {connection ? <ConnectedFacts connection={connection} /> : <><dt>Connected</dt><dd>not yet: connect the account to start syncing</dd></>}
    </dl>
  );
}

function ConnectedFacts({ connection }: { connection: Connection }) {
  return (
    <>
      <dt>Connected account</dt>
      <dd id="account">{connection.accountEmail ?? "unknown"}</dd>
      <dt>Organisation</dt>
      <dd id="org">
        {connection.orgName ?? "unknown"}
        {connection.orgId ? ` (${connection.orgId})` : ""}
      </dd>
      <dt>Data centre</dt>
      <dd>{connection.dataCenter ?? "—"}</dd>
      <dt>Connected at</dt>
      <dd>{connection.connectedAt}</dd>
      <dt>Scopes</dt>
      <dd>{connection.scopes.join(", ")}</dd>
    </>
  );
}

/** What the admin typed into the config forms, shown again next to the errors when a save is refused. */
export interface ConfigDraft {
  section: "mapping" | "scope" | "settings";
  mapping?: MappingRowDraft[];
  scope?: ScopeRowDraft[];
  values?: Record<string, string>;
  errors: FieldError[];
}

export interface MappingRowDraft {
  to: string;
  kind: "from" | "expr";
  value: string;
  required: boolean;
  /** The path of this row in the config that was refused, for its errors. */
  path: string | null;
}

export interface ScopeRowDraft {
  list: "exclude" | "include";
  field: string;
  op: ScopeOp;
  value: string;
  path: string | null;
}

export const SCOPE_OPS = ["in", "notIn", "equals", "exists", "matches"] as const;
export type ScopeOp = (typeof SCOPE_OPS)[number];

function mappingRows(config: ResolvedConfig): MappingRowDraft[] {
  return config.mapping.map((m: MappingEntry, i) => ({ to: m.to, kind: "from" in m ? "from" : "expr", value: "from" in m ? m.from : m.expr, required: m.required === true, path: `config.mapping.${i}` }));
}

function scopeRows(config: ResolvedConfig): ScopeRowDraft[] {
  const rows: ScopeRowDraft[] = [];
  for (const list of ["exclude", "include"] as const) {
    (config.scope[list] ?? []).forEach((r: ScopeRule, i) => {
      const op = SCOPE_OPS.find((o) => r[o] !== undefined) ?? "equals";
      const raw = r[op];
      rows.push({ list, field: r.field, op, value: Array.isArray(raw) ? raw.join(", ") : String(raw ?? ""), path: `config.scope.${list}.${i}` });
    });
  }
  return rows;
}

/** What the integration's page shows beside the integration itself, loaded by `loaders.tsx`. */
export interface IntegrationData {
  stats: Awaited<ReturnType<typeof linkStats>>;
  runs: RunRow[];
  /** A source's pulls and calls; null for a target. */
  source: Awaited<ReturnType<typeof pullStatus>>;
  /** The groups the hub manages, for a target with groups. */
  managed: { name: string; remoteId: string; members: number }[];
  /** The account's networks (or why they cannot be listed), for a provider that has them. */
  choices: { networks: Choice[] | null; problem: string | null } | null;
  handlerLogs: HandlerLogView[];
}

export interface IntegrationPageProps {
  c: Dash;
  integration: Integration;
  /** The group rules editor's rows beyond the stored ones: a refused save, or a preview. */
  groups?: { rows: GroupRuleDraft[]; errors?: FieldError[]; preview?: GroupPreview } | undefined;
  /** The pull settings as typed, when a save was refused. */
  pulls?: { values: Record<string, string>; errors: FieldError[] } | undefined;
  draft?: ConfigDraft | undefined;
  notice?: string | undefined;
  disown?: unknown;
  /** What the handlers section shows beyond the stored handlers: a refused save, a try, a test. */
  handlers?: { draft?: HandlersDraft; errors?: FieldError[]; tried?: TryResult; tested?: TestResult } | undefined;
}

/** `/dashboard/integrations/{id}`: facts, stats, actions, the config editors and recent runs. */
export function IntegrationView({ c, integration, draft, notice, disown, handlers, groups, pulls, data }: IntegrationPageProps & { data: IntegrationData }) {
  const { stats, runs, source, managed, choices } = data;
  const def = connector(integration.provider);
  const name = def.facts.name;
  const canPush = def.push !== undefined;
  const facts: ConnectorFacts = def.facts;
  const connectable = integration.pendingActions.some((a) => a === "connect" || a === "reconnect") || !integration.connection;
  const base = `/dashboard/integrations/${integration.id}`;
  const config = integration.config;
  const mapping = draft?.section === "mapping" && draft.mapping ? draft.mapping : mappingRows(config);
  const scope = draft?.section === "scope" && draft.scope ? draft.scope : scopeRows(config);
  const values = draft?.section === "settings" && draft.values ? draft.values : settingsValues(config);
  const errors = draft?.errors;
  const defaults = defaultConfig(def);
  return (
    <Page
      c={c}
      title={integration.name}
      section="integrations"
      notice={
        <>
          {notice ? (
            <p class="notice" role="status">
              {notice}
            </p>
          ) : null}
          {errors?.length ? (
            <p class="notice bad" role="alert" id="save-refused">
              Nothing was saved: {errors.length === 1 ? "one setting needs" : `${errors.length} settings need`} fixing, shown beside {errors.length === 1 ? "it" : "them"}.
            </p>
          ) : null}
        </>
      }
    >
      <h1>
        {integration.name} <Badge value={integration.status} />
      </h1>
      {integration.lastError ? (
        <p class="notice warn" id="last-error">
          {integration.lastError}
        </p>
      ) : null}
      <section class="card" aria-labelledby="h-connection">
        <h2 id="h-connection">{name} connection</h2>
        <ConnectionFacts connection={integration.connection} status={integration.status} />
        {integration.pendingActions.length ? <p id="pending">Left to do: {integration.pendingActions.map((a) => PENDING_WORDS[a] ?? a).join("; ")}.</p> : null}
        <Limitations items={facts.limitations ?? []} />
        <div class="actions">
          {connectable ? (
            <a class="button" href={`/connect/${integration.id}`} id="connect">
              Connect {name}
            </a>
          ) : (
            <a class="button secondary" href={`/connect/${integration.id}`}>
              Connect another account
            </a>
          )}
          {integration.status === "active" ? (
            <a href={`${base}/deactivate`} class="button secondary" id="deactivate">
              Deactivate
            </a>
          ) : null}
          {integration.status === "deactivated" ? <PostButton c={c} action={`${base}/activate`} label="Activate" /> : null}
          <a class="button secondary" href={`${base}/delete`}>
            Delete…
          </a>
        </div>
        {disown ? <div>{disown}</div> : null}
      </section>
      <section class="card" aria-labelledby="h-people">
        <h2 id="h-people">People</h2>
        <p id="stats">{statsLine(stats)}</p>
        <div class="actions">
          <a href={`${base}/unmatched`}>Unmatched people and records</a>
          <a href={`${base}/logs`}>Sync log</a>
        </div>
        {source ? null : canPush && integration.status === "active" ? (
          <div class="actions">
            <PostButton c={c} action={`${base}/resync`} label="Resync users" id="resync" />
            <PostButton c={c} action={`${base}/reconcile`} label="Reconcile" kind="secondary" id="reconcile" />
          </div>
        ) : (
          <p class="muted">{canPush ? "Resync and reconcile run once the integration is active." : `${name} does not take people from the hub yet: its settings are kept until it does.`}</p>
        )}
        <h3>Recent runs</h3>
        {runs.length ? (
          <ul>
            {runs.map(runView).map((r) => (
              <li>
                <a href={`/dashboard/runs/${r.id}`}>
                  {r.kind} {r.startedAt}
                </a>{" "}
                <Badge value={r.status} />
              </li>
            ))}
          </ul>
        ) : (
          <p class="empty">No runs yet.</p>
        )}
      </section>

      {choices ? <NetworkCard c={c} integration={integration} networks={choices.networks} problem={choices.problem} /> : null}
      {def.push?.groups ? <GroupRulesCard c={c} integration={integration} rows={groups?.rows ?? groupRuleRows(config)} errors={groups?.errors} preview={groups?.preview ?? null} managed={managed} brand={def.facts.brand} /> : null}
      {source ? <PullCard c={c} integration={integration} status={source} values={pulls?.values ?? pullValues(integration, source)} errors={pulls?.errors} dailyAllowance={def.facts.limits.dailyAllowance} /> : null}
      {source ? null : (
        <>
      <section class="card" aria-labelledby="h-mapping">
        <h2 id="h-mapping">Field mapping</h2>
        <p class="muted">
          Each row fills one {name} field ({config.object}) from a directory field, or from a JSONata expression over the person. Clear a row's field to remove it; the empty rows add new ones.
        </p>
        <form method="post" action={`${base}/config`} id="mapping-form">
          <Csrf c={c} />
          <input type="hidden" name="section" value="mapping" />
          <FieldErrors errors={errors} path="config.mapping" id="mapping-errors" />
          {[...mapping, ...Array.from({ length: 2 }, (): MappingRowDraft => ({ to: "", kind: "from", value: "", required: false, path: null }))].map((row, i) => (
            <MappingRow row={row} index={i} errors={errors} />
          ))}
          <p class="muted">Defaults: {defaults.mapping.map((m) => `${m.to} ← ${"from" in m ? m.from : m.expr}`).join(", ")}</p>
          <button type="submit">Save the mapping</button>
        </form>
      </section>

      <section class="card" aria-labelledby="h-scope">
        <h2 id="h-scope">Who is synced (scope)</h2>
        <p class="muted">Exclude rules leave people out; if there are include rules, only people matching one of them are synced. Lists take values separated by commas.</p>
        <form method="post" action={`${base}/config`} id="scope-form">
          <Csrf c={c} />
          <input type="hidden" name="section" value="scope" />
          <FieldErrors errors={errors} path="config.scope" />
          {[...scope, { list: "exclude", field: "", op: "in", value: "", path: null } as ScopeRowDraft].map((row, i) => (
            <ScopeRow row={row} index={i} errors={errors} />
          ))}
          <button type="submit">Save the scope</button>
        </form>
      </section>

      <section class="card" aria-labelledby="h-settings">
        <h2 id="h-settings">Matching, deletion, schedule and safety</h2>
        <form method="post" action={`${base}/config`} id="settings-form">
          <Csrf c={c} />
          <input type="hidden" name="section" value="settings" />
          <fieldset>
            <legend>Matching existing records</legend>
            <label for="matching-by">Match people to records by</label>
            <select id="matching-by" name="matchingBy">
              {["email", "id"].map((f) => (
                <option value={f} selected={values.matchingBy === f}>
                  {f === "email" ? "e-mail" : "the person's id"}
                </option>
              ))}
            </select>
            <label>
              <input type="checkbox" name="caseSensitive" value="1" checked={values.caseSensitive === "1"} /> Case-sensitive (Ada@x and ada@x are different people)
            </label>
            <FieldErrors errors={errors} path="config.matching" />
          </fieldset>
          <fieldset>
            <legend>When a person leaves</legend>
            <label for="on-delete">When a person is deleted in your app</label>
            <select id="on-delete" name="onDelete" aria-describedby="on-delete-help">
              <option value="ignore" selected={values.onDelete === "ignore"}>
                leave the {name} record as it is
              </option>
              <option value="deactivate" selected={values.onDelete === "deactivate"}>
                deactivate the record
              </option>
              <option value="delete" selected={values.onDelete === "delete"}>
                delete the record
              </option>
            </select>
            <p class="muted" id="on-delete-help">
              “Delete” acts on deleted people only: a disabled person's record is left as it is. “Deactivate” acts on disabled and deleted people, where {name} allows it.
            </p>
            <FieldErrors errors={errors} path="config.onDelete" />
            <label for="on-remote-delete">When someone deletes a linked record in {name}</label>
            <select id="on-remote-delete" name="onRemoteDelete">
              <option value="recreate" selected={values.onRemoteDelete === "recreate"}>
                create it again
              </option>
              <option value="mark" selected={values.onRemoteDelete === "mark"}>
                mark the person unmatched
              </option>
            </select>
          </fieldset>
          <fieldset>
            <legend>Schedule and safety</legend>
            <div class="row">
              <div>
                <label for="resync-minutes">Resync every (minutes)</label>
                <input type="number" id="resync-minutes" name="resyncMinutes" min="5" max="1440" value={values.resyncMinutes} />
                <FieldErrors errors={errors} path="config.schedule" />
              </div>
              <div>
                <label for="reconcile">Reconcile</label>
                <select id="reconcile" name="reconcile">
                  {["hourly", "daily", "off"].map((v) => (
                    <option value={v} selected={values.reconcile === v}>
                      {v}
                    </option>
                  ))}
                </select>
              </div>
              <div>
                <label for="max-disable">Hold runs that remove more than (% of linked people)</label>
                <input type="number" id="max-disable" name="maxDisablePercent" min="0" max="100" step="1" value={values.maxDisablePercent} />
                <FieldErrors errors={errors} path="config.maxDisablePercent" />
              </div>
            </div>
          </fieldset>
          <button type="submit">Save these settings</button>
        </form>
      </section>

      <HandlersSection c={c} integration={integration} draft={handlers?.draft} errors={handlers?.errors} tried={handlers?.tried} tested={handlers?.tested} logs={data.handlerLogs} />
        </>
      )}
    </Page>
  );
}

function settingsValues(config: ResolvedConfig): Record<string, string> {
  return {
    matchingBy: config.matching.by,
    caseSensitive: config.matching.caseSensitive ? "1" : "",
    onDelete: config.onDelete,
    onRemoteDelete: config.onRemoteDelete,
    resyncMinutes: String(config.schedule.resyncMinutes),
    reconcile: config.schedule.reconcile,
    maxDisablePercent: String(config.maxDisablePercent),
  };
}

function MappingRow({ row, index, errors }: { row: MappingRowDraft; index: number; errors: FieldError[] | undefined }) {
  const id = (f: string) => `mapping-${index}-${f}`;
  const errorId = `mapping-${index}-error`;
  const rowErrors = row.path ? (errors ?? []).filter((e) => e.path === row.path || e.path.startsWith(`${row.path}.`)) : [];
  return (
    <div class="mapping-row" data-row={index}>
      <div>
        <label for={id("to")}>Field {index + 1}</label>
        <input type="text" id={id("to")} name={`to_${index}`} value={row.to} aria-describedby={rowErrors.length ? errorId : undefined} />
      </div>
      <div>
        <label for={id("kind")}>Filled from</label>
        <select id={id("kind")} name={`kind_${index}`}>
          <option value="from" selected={row.kind === "from"}>
            a directory field
          </option>
          <option value="expr" selected={row.kind === "expr"}>
            an expression
          </option>
        </select>
      </div>
      <div>
        <label for={id("value")}>Directory field or expression</label>
        <input type="text" id={id("value")} name={`value_${index}`} value={row.value} list="user-fields" aria-describedby={rowErrors.length ? errorId : undefined} aria-invalid={rowErrors.length ? "true" : undefined} />
        {index === 0 ? (
          <datalist id="user-fields">
            {USER_FIELDS.map((f) => (
              <option value={f} />
            ))}
          </datalist>
        ) : null}
      </div>
      <div>
        <label>
          <input type="checkbox" name={`required_${index}`} value="1" checked={row.required} /> Required
        </label>
      </div>
      <div>{rowErrors.length ? <p class="field-error" id={errorId} role="alert">{rowErrors.map((e) => e.message).join(" ")}</p> : null}</div>
    </div>
  );
}

function ScopeRow({ row, index, errors }: { row: ScopeRowDraft; index: number; errors: FieldError[] | undefined }) {
  const id = (f: string) => `scope-${index}-${f}`;
  const rowErrors = row.path ? (errors ?? []).filter((e) => e.path === row.path || e.path.startsWith(`${row.path}.`)) : [];
  return (
    <div class="row" data-scope-row={index}>
      <div>
        <label for={id("list")}>Rule {index + 1}</label>
        <select id={id("list")} name={`list_${index}`}>
          <option value="exclude" selected={row.list === "exclude"}>
            exclude
          </option>
          <option value="include" selected={row.list === "include"}>
            include
          </option>
        </select>
      </div>
      <div>
        <label for={id("field")}>people whose</label>
        <input type="text" id={id("field")} name={`field_${index}`} value={row.field} list="user-fields" />
      </div>
      <div>
        <label for={id("op")}>is</label>
        <select id={id("op")} name={`op_${index}`}>
          {SCOPE_OPS.map((op) => (
            <option value={op} selected={row.op === op}>
              {{ in: "one of", notIn: "none of", equals: "exactly", exists: "set (true/false)", matches: "matching the pattern" }[op]}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for={id("value")}>value</label>
        <input type="text" id={id("value")} name={`value_${index}`} value={row.value} />
      </div>
      {rowErrors.length ? (
        <p class="field-error" role="alert">
          {rowErrors.map((e) => e.message).join(" ")}
        </p>
      ) : null}
    </div>
  );
}

/**
 * A step that asks first (`/dashboard/integrations/{id}/delete` and `…/deactivate`): what
 * it does, the button that does it (a sign-in within 10 minutes needed), and a way back.
 */
function ConfirmPage({ c, integration, step, children, keep }: { c: Dash; integration: Integration; step: "delete" | "deactivate"; children: unknown; keep: string }) {
  const verb = step === "delete" ? "Delete" : "Deactivate";
  return (
    <Page c={c} title={`${verb} ${integration.name}`} section="integrations">
      <h1>
        {verb} {integration.name}?
      </h1>
      <section class="card">
        <p>{step === "delete" ? "Deleting" : "Deactivating"} the integration:</p>
        <ul>{children}</ul>
        <div class="actions">
          <PostButton c={c} action={`/dashboard/integrations/${integration.id}/${step}`} label={`${verb} ${integration.name}`} kind="danger" id={`confirm-${step}`} />
          <a href={`/dashboard/integrations/${integration.id}`}>{keep}</a>
        </div>
      </section>
    </Page>
  );
}

export function DeletePage({ c, integration }: { c: Dash; integration: Integration }) {
  const name = connector(integration.provider).facts.name;
  return (
    <ConfirmPage c={c} integration={integration} step="delete" keep="Keep it">
      <li>stops every sync to and from {name} at once;</li>
      <li>revokes the hub's access at {name} (nothing is deleted until {name} confirms);</li>
      <li>
        <strong>leaves the records in {name} as they are</strong>: no contact, member or user is deleted there;
      </li>
      <li>forgets the links, the sync log and the settings of this integration. This cannot be undone.</li>
    </ConfirmPage>
  );
}

export function DeactivatePage({ c, integration }: { c: Dash; integration: Integration }) {
  const name = connector(integration.provider).facts.name;
  return (
    <ConfirmPage c={c} integration={integration} step="deactivate" keep="Keep it running">
      <li>stops every sync to and from {name} until it is activated again: no change reaches {name} meanwhile;</li>
      <li>keeps the connection, the settings, the links and the sync log;</li>
      <li>
        <strong>leaves the records in {name} as they are</strong>;
      </li>
      <li>when activated again, pushes everyone once, so that what changed meanwhile reaches {name}.</li>
    </ConfirmPage>
  );
}
