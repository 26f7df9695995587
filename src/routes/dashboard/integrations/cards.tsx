import type { Choice } from "../../../connectors/contract";
import type { Integration } from "../../../integrations/store";
import type { pullStatus } from "../../../integrations/source-status";
import { USER_FIELDS, type ResolvedConfig } from "../../../lib/config";
import type { FieldError } from "../../../lib/errors";
import { Badge, Csrf, FieldErrors, PostButton } from "../layout";
import type { Dash } from "../session";

// The cards of providers that need more than mapping and scope: Zoho Connect's network
// and group rules, Zoho People's pulls.

/** A group rule as the editor holds it (a refused save or a preview shows it again). */
export interface GroupRuleDraft {
  field: string;
  prefix: string;
  create: boolean;
  path: string | null;
}

/** What a preview of group rules found: each group that would exist and how many active people it would hold. */
export type GroupPreview = { name: string; people: number; exists: boolean }[];

export function groupRuleRows(config: ResolvedConfig): GroupRuleDraft[] {
  return config.groupRules.map((r, i) => ({ field: r.field, prefix: r.prefix ?? "", create: r.create !== false, path: `config.groupRules.${i}` }));
}

/** Which network the integration manages; with several and none chosen, the choice (the pending action `choose-network`). */
export function NetworkCard({ c, integration, networks, problem }: { c: Dash; integration: Integration; networks: Choice[] | null; problem: string | null }) {
  const base = `/dashboard/integrations/${integration.id}`;
  const chosen = (integration.config as Readonly<Record<string, unknown>>).networkId as string | undefined;
  const name = networks?.find((n) => n.id === chosen)?.name;
  return (
    <section class="card" aria-labelledby="h-network">
      <h2 id="h-network">Network</h2>
      {chosen ? (
        <p id="network">
          People are invited to <strong>{name ?? chosen}</strong> ({chosen}).
        </p>
      ) : (
        <p id="network">No network is chosen yet: choose the one people are invited to.</p>
      )}
      {problem ? <p class="notice warn">{problem}</p> : null}
      {networks && networks.length ? (
        <form method="post" action={`${base}/network`} id="network-form">
          <Csrf c={c} />
          <fieldset>
            <legend>The account's networks</legend>
            {networks.map((n) => (
              <label>
                <input type="radio" name="networkId" value={n.id} checked={chosen ? chosen === n.id : n.isDefault} /> {n.name} <span class="muted">({n.id}{n.isDefault ? ", the account's default" : ""})</span>
              </label>
            ))}
          </fieldset>
          <button type="submit">{chosen ? "Change the network" : "Use this network"}</button>
        </form>
      ) : integration.connection ? null : (
        <p class="muted">Connect the account first: its networks are listed here.</p>
      )}
    </section>
  );
}

/** The group rules editor: rows, a preview of the groups and their sizes, and the groups the hub made. */
export function GroupRulesCard({
  c,
  integration,
  rows,
  errors,
  preview,
  managed,
  brand,
}: {
  c: Dash;
  integration: Integration;
  rows: GroupRuleDraft[];
  errors: FieldError[] | undefined;
  preview: GroupPreview | null;
  managed: { name: string; remoteId: string; members: number }[];
  /** Where the groups live, as the connector names it. */
  brand: string;
}) {
  const base = `/dashboard/integrations/${integration.id}`;
  const reviewed = (integration.config as Readonly<Record<string, unknown>>).groupRulesReviewed === true;
  const spare: GroupRuleDraft[] = [{ field: "", prefix: "", create: true, path: null }];
  return (
    <section class="card" aria-labelledby="h-groups">
      <h2 id="h-groups">Groups</h2>
      <p class="muted">
        Each rule puts every synced person in the group named by their value of a field (with the prefix before it), and moves them when the value changes. A missing group is created
        once when “create” is on. {reviewed ? "" : "Review the rules and save them to finish setting up."}
      </p>
      <form method="post" action={`${base}/groups`} id="groups-form">
        <Csrf c={c} />
        <FieldErrors errors={errors} path="config.groupRules" />
        <datalist id="group-fields">
          {USER_FIELDS.filter((f) => f !== "id" && f !== "email" && f !== "status").map((f) => (
            <option value={f} />
          ))}
        </datalist>
        {[...rows, ...spare].map((row, i) => (
          <div class="row" data-rule={i}>
            <div>
              <label for={`rule-${i}-field`}>Rule {i + 1}: field</label>
              <input type="text" id={`rule-${i}-field`} name={`field_${i}`} list="group-fields" value={row.field} placeholder="department, designation or attributes.<name>" />
              {row.path ? <FieldErrors errors={errors} path={row.path} /> : null}
            </div>
            <div>
              <label for={`rule-${i}-prefix`}>Prefix</label>
              <input type="text" id={`rule-${i}-prefix`} name={`prefix_${i}`} value={row.prefix} />
            </div>
            <label>
              <input type="checkbox" name={`create_${i}`} value="1" checked={row.create} /> create missing groups
            </label>
          </div>
        ))}
        <div class="actions">
          <button type="submit" name="intent" value="preview" class="secondary" id="preview-groups">
            Preview the groups
          </button>
          <button type="submit" name="intent" value="save" id="save-groups">
            Save the group rules
          </button>
        </div>
      </form>
      {preview ? (
        <div id="group-preview">
          <h3>Groups these rules make</h3>
          {preview.length ? (
            <table>
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Active people</th>
                  <th scope="col">In {brand}</th>
                </tr>
              </thead>
              <tbody>
                {preview.map((g) => (
                  <tr>
                    <td>{g.name}</td>
                    <td>{g.people}</td>
                    <td>{g.exists ? "made already" : "created on the next sync"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="empty">No active person has a value for these fields: no group would be made.</p>
          )}
          <p class="muted">Nothing was saved: save the rules to apply them.</p>
        </div>
      ) : null}
      <h3>Groups the hub manages</h3>
      {managed.length ? (
        <ul id="managed-groups">
          {managed.map((g) => (
            <li>
              {g.name} <span class="muted">({g.remoteId || "being created"}, {g.members} people)</span>
            </li>
          ))}
        </ul>
      ) : (
        <p class="empty">None yet.</p>
      )}
    </section>
  );
}

/** What the provider cannot do, said where the admin configures it. */
export function Limitations({ items }: { items: string[] }) {
  if (!items.length) return null;
  return (
    <div class="notice" id="limitations">
      <p>What this provider's API does not allow:</p>
      <ul>
        {items.map((l) => (
          <li>{l}</li>
        ))}
      </ul>
    </div>
  );
}

/** A source's pulls: the last one, the next ones, the calls spent, and their settings. */
export function PullCard({
  c,
  integration,
  status,
  values,
  errors,
  dailyAllowance,
}: {
  c: Dash;
  integration: Integration;
  status: NonNullable<Awaited<ReturnType<typeof pullStatus>>>;
  values: Record<string, string>;
  errors: FieldError[] | undefined;
  /** The provider's daily allowance in its words (the connector's `limits.dailyAllowance`). */
  dailyAllowance: string | undefined;
}) {
  const base = `/dashboard/integrations/${integration.id}`;
  const last = status.lastRun;
  return (
    <section class="card" aria-labelledby="h-pulls">
      <h2 id="h-pulls">Pulls</h2>
      <dl class="facts" id="pull-status">
        <dt>Last pull</dt>
        <dd id="last-pull">
          {last ? (
            <>
              <a href={`/dashboard/runs/${last.id}`}>{last.startedAt}</a> <Badge value={last.status} /> {last.counts.created} created · {last.counts.updated} updated · {last.counts.disabled} disabled ·{" "}
              {last.counts.unchanged} unchanged
            </>
          ) : (
            "none yet"
          )}
        </dd>
        <dt>Next pull</dt>
        <dd id="next-pull">{status.nextPullAt ?? "at the next minute"}</dd>
        <dt>Next full pull (finds leavers)</dt>
        <dd id="next-full-pull">{status.nextFullPullAt ?? "off"}</dd>
        <dt>Calls today (UTC)</dt>
        <dd id="calls-today">
          {status.callsToday}
          {status.callsPerDay !== null ? ` of ${status.callsPerDay}` : ` (no daily budget set${dailyAllowance ? `: ${dailyAllowance}` : ""})`}, at most {status.requestsPerMinute} a minute
        </dd>
      </dl>
      {integration.status === "active" ? <PostButton c={c} action={`${base}/resync`} label="Pull everyone now" id="pull-now" /> : null}
      <form method="post" action={`${base}/pulls`} id="pulls-form">
        <Csrf c={c} />
        <div class="row">
          <div>
            <label for="pull-minutes">Pull changes every (minutes)</label>
            <input type="number" id="pull-minutes" name="pullMinutes" min="5" max="1440" value={values.pullMinutes} />
            <FieldErrors errors={errors} path="config.schedule" />
          </div>
          <div>
            <label for="full-pull">Full pull</label>
            <select id="full-pull" name="fullPull">
              {["hourly", "daily", "weekly", "off"].map((v) => (
                <option value={v} selected={values.fullPull === v}>
                  {v}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="date-format">The organisation's date format</label>
            <input type="text" id="date-format" name="dateFormat" value={values.dateFormat} />
            <FieldErrors errors={errors} path="config.dateFormat" />
          </div>
          <div>
            <label for="per-minute">Requests a minute (at most 400)</label>
            <input type="number" id="per-minute" name="requestsPerMinute" min="1" max="400" value={values.requestsPerMinute} />
            <FieldErrors errors={errors} path="config.throttle" />
          </div>
          <div>
            <label for="per-day">Calls a day (empty: no budget)</label>
            <input type="number" id="per-day" name="callsPerDay" min="1" value={values.callsPerDay} />
          </div>
        </div>
        <button type="submit">Save the pull settings</button>
      </form>
    </section>
  );
}

export function pullValues(integration: Integration, status: NonNullable<Awaited<ReturnType<typeof pullStatus>>>): Record<string, string> {
  const config = integration.config as Readonly<Record<string, unknown>> & ResolvedConfig;
  return {
    pullMinutes: String(config.schedule.pullMinutes ?? 15),
    fullPull: config.schedule.fullPull ?? "daily",
    dateFormat: String(config.dateFormat ?? "dd-MMM-yyyy"),
    requestsPerMinute: String(status.requestsPerMinute ?? ""),
    callsPerDay: status.callsPerDay === null ? "" : String(status.callsPerDay),
  };
}
