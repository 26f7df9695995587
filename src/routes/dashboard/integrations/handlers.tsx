import type { HandlerLogLine } from "../../../db/events.repo";
import type { Integration } from "../../../integrations/store";
import { HANDLER_EVENTS, type HandlerEvent } from "../../../lib/config";
import type { FieldError } from "../../../lib/errors";
import { Badge, Csrf, FieldErrors, when } from "../layout";
import type { Dash } from "../session";

/** What the handlers form holds: as stored, or as typed when a save was refused. */
export interface HandlersDraft {
  beforeExpr: string;
  afterUrl: string;
  afterEvents: HandlerEvent[];
}

/** The result of "try it on a person": the person as the handler sees them, and what it gave (or why it skipped them). */
export interface TryResult {
  userId: string;
  input: unknown;
  output: unknown;
  message: string | null;
}

/** The answer of "Send test event". */
export interface TestResult {
  event: HandlerEvent;
  delivered: boolean;
  httpStatus: number | null;
  durationMs: number;
  detail: string | null;
}

const EVENT_WORDS: Record<HandlerEvent, string> = {
  "user.synced": "a person was written to the provider",
  "user.failed": "a person could not be written",
  "user.excluded": "a person was left out (scope or before handler)",
  "run.completed": "a resync or reconciliation ended",
  "run.held": "a run waits for approval (mass-change guard)",
  "integration.reconnect_required": "the integration must be connected again",
  "import.completed": "a CSV import ended",
};

export function handlersDraft(integration: Integration): HandlersDraft {
  const { before, after } = integration.config.handlers;
  return { beforeExpr: before?.expr ?? "", afterUrl: after?.url ?? "", afterEvents: [...(after?.events ?? [])] };
}

/** The config change the handlers form asks for: an empty expression or URL removes that handler. */
export function handlersFromForm(form: Record<string, string>): { patch: Record<string, unknown>; draft: HandlersDraft } {
  const draft: HandlersDraft = {
    beforeExpr: (form.beforeExpr ?? "").trim(),
    afterUrl: (form.afterUrl ?? "").trim(),
    afterEvents: HANDLER_EVENTS.filter((e) => form[`event_${e}`] === "1"),
  };
  const handlers = {
    ...(draft.beforeExpr ? { before: { expr: draft.beforeExpr } } : {}),
    ...(draft.afterUrl || draft.afterEvents.length ? { after: { url: draft.afterUrl, events: draft.afterEvents } } : {}),
  };
  return { patch: { handlers }, draft };
}

function Json({ value, id }: { value: unknown; id: string }) {
  return (
    <pre class="json" id={id} tabindex={0}>
      {value === undefined ? "(nothing)" : JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** The handlers section of the integration page: edit and try the before expression, the after URL and events, a test event, and the handler logs. */
/** A handler log line as the section lists it. */
export type HandlerLogView = HandlerLogLine;

export function HandlersSection(props: {
  c: Dash;
  integration: Integration;
  draft?: HandlersDraft | undefined;
  errors?: FieldError[] | undefined;
  tried?: TryResult | undefined;
  tested?: TestResult | undefined;
  /** The integration's latest handler log lines. */
  logs: HandlerLogView[];
}) {
  const { c, integration, errors, tried, tested, logs } = props;
  const draft = props.draft ?? handlersDraft(integration);
  const base = `/dashboard/integrations/${integration.id}/handlers`;
  return (
    <section class="card" aria-labelledby="h-handlers" id="handlers">
      <h2 id="h-handlers">Handlers</h2>
      <p class="muted">
        The before handler changes people on the way to this integration, or skips them; the after handler sends signed events to your URL. See docs/handlers.md for examples.
      </p>
      {integration.afterDisabledReason ? (
        <p class="notice warn" id="after-disabled" role="alert">
          Deliveries are stopped: {integration.afterDisabledReason}
        </p>
      ) : null}
      <form method="post" action={base} id="handlers-form">
        <Csrf c={c} />
        <fieldset>
          <legend>Before: a JSONata expression over {"{ user, integration }"}</legend>
          <label for="before-expr">Give the user to sync (a changed copy), or null to skip them. Leave empty for none.</label>
          <textarea id="before-expr" name="beforeExpr" rows={6} spellcheck={false} aria-describedby="before-expr-errors">
            {draft.beforeExpr}
          </textarea>
          <FieldErrors errors={errors} path="config.handlers.before" id="before-expr-errors" />
        </fieldset>
        <fieldset>
          <legend>After: send events to</legend>
          <label for="after-url">URL (https)</label>
          <input type="url" id="after-url" name="afterUrl" value={draft.afterUrl} placeholder="https://hooks.example.com/usersync" aria-describedby="after-url-errors" />
          <FieldErrors errors={errors} path="config.handlers.after.url" id="after-url-errors" />
          <p>Events:</p>
          <ul class="plain">
            {HANDLER_EVENTS.map((e) => (
              <li>
                <label>
                  <input type="checkbox" name={`event_${e}`} value="1" checked={draft.afterEvents.includes(e)} /> <code>{e}</code>: {EVENT_WORDS[e]}
                </label>
              </li>
            ))}
          </ul>
          <FieldErrors errors={errors} path="config.handlers.after.events" />
        </fieldset>
        <fieldset>
          <legend>Try the before handler on a person</legend>
          <label for="try-user">Person (their id in your directory)</label>
          <input type="text" id="try-user" name="userId" value={tried?.userId ?? ""} />
          <button type="submit" class="secondary" formaction={`${base}/try`} id="try">
            Try it
          </button>
          <p class="muted">Runs the expression in the box above, saved or not, on the person; nothing is saved or synced.</p>
        </fieldset>
        <button type="submit">Save the handlers</button>
      </form>
      {tried ? (
        <div class="row" id="try-result">
          <div>
            <h4>In</h4>
            <Json value={tried.input} id="try-input" />
          </div>
          <div>
            <h4>Out</h4>
            {tried.message ? <p id="try-message">{tried.message}</p> : <Json value={tried.output} id="try-output" />}
          </div>
        </div>
      ) : null}

      <h3>Test the after handler</h3>
      <form method="post" action={`${base}/test`} id="test-form">
        <Csrf c={c} />
        <label for="test-event">Event</label>
        <select id="test-event" name="event">
          {HANDLER_EVENTS.map((e) => (
            <option value={e} selected={tested?.event === e}>
              {e}
            </option>
          ))}
        </select>
        <button type="submit" class="secondary" id="send-test">
          Send test event
        </button>
      </form>
      {tested ? (
        <p class={`notice${tested.delivered ? "" : " bad"}`} id="test-result" role="status">
          {tested.delivered ? "Delivered" : "Not delivered"}
          {tested.httpStatus !== null ? `: the receiver answered ${tested.httpStatus}` : ""} in {tested.durationMs} ms.{tested.detail ? ` ${tested.detail}` : ""}
        </p>
      ) : null}

      <h3>Handler log</h3>
      {logs.length ? (
        <table id="handler-logs">
          <caption class="sr-only">The latest 20 handler log lines, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Handler</th>
              <th scope="col">Event or person</th>
              <th scope="col">Status</th>
              <th scope="col">Answer</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {logs.map((l) => (
              <tr>
                <td>{when(l.at)}</td>
                <td>{l.kind}</td>
                <td>{[l.event, l.userId].filter(Boolean).join(" · ")}</td>
                <td>
                  <Badge value={l.status} />
                </td>
                <td>
                  {l.httpStatus ?? "—"}
                  {l.durationMs !== null ? ` in ${l.durationMs} ms` : ""}
                  {l.attempt !== null ? `, attempt ${l.attempt}` : ""}
                  {l.nextAttemptAt !== null ? `, next ${when(l.nextAttemptAt)}` : ""}
                </td>
                <td>{l.detail ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="empty">Nothing yet: skipped people and delivery attempts appear here.</p>
      )}
    </section>
  );
}

