import type { ImportsPageData } from "./loaders";
import { DEFAULT_MAX_DISABLE_PERCENT } from "../../../lib/config";
import { importHeaders, type ImportLocationRow } from "../../../db/imports.repo";
import type { ImportRow } from "../../../db/schema";
import { attributeOf, IMPORT_FIELDS, suggestMapping } from "../../../directory/csv";
import type { ImportPreview } from "../../../directory/import-plan";
import type { FieldError } from "../../../lib/errors";
import { Badge, Csrf, Page, when } from "../layout";
import type { Dash } from "../session";

/**
 * Sends the chosen file as it is (text/csv), so the browser streams it from disk and the
 * hub streams it into R2; without this script the form posts it as multipart, which the
 * hub parses whole. A refusal is shown on the page.
 */
const UPLOAD_SCRIPT = `
document.getElementById("upload-form").addEventListener("submit", async (event) => {
  const form = event.currentTarget;
  const file = form.file.files[0];
  if (!file || !window.fetch) return;
  event.preventDefault();
  const status = document.getElementById("upload-status");
  status.textContent = "Uploading " + file.name + "…";
  try {
    const res = await fetch(form.action, { method: "POST", body: file, headers: { "content-type": "text/csv", "x-csrf-token": form.dataset.csrf, accept: "application/json" } });
    const body = await res.json().catch(() => ({}));
    if (res.status === 201 && body.location) return window.location.assign(body.location);
    const why = (body.errors || []).map((e) => e.message).join(" ") || body.detail || "The file was refused (" + res.status + ").";
    status.textContent = "Not uploaded: " + why;
    status.className = "notice bad";
  } catch (err) {
    status.textContent = "Not uploaded: the upload did not reach the hub. Try again.";
    status.className = "notice bad";
  }
});
`;

/** `/dashboard/imports`: upload a file, the recent imports, and what scheduled pickup uses. */
export function ImportsPageView({ c, problem, data }: { c: Dash; problem?: string | undefined } & { data: ImportsPageData }) {
  const { recent, saved, location } = data;
  return (
    <Page c={c} title="Import" section="imports" notice={problem ? <p class="notice bad" role="alert" id="upload-problem">{problem}</p> : undefined}>
      <h1>Import people from a CSV file</h1>
      <section class="card" aria-labelledby="h-upload">
        <h2 id="h-upload">Upload a file</h2>
        <p class="muted">A CSV file (UTF-8; comma or semicolon) with a header row, at most 50 MiB. Nothing changes until you preview and apply it.</p>
        <form method="post" action="/dashboard/imports" enctype="multipart/form-data" class="row" id="upload-form" data-csrf={c.get("csrf")}>
          <Csrf c={c} />
          <div>
            <label for="file">CSV file</label>
            <input type="file" id="file" name="file" accept=".csv,text/csv" required />
          </div>
          <button type="submit">Upload</button>
        </form>
        <p id="upload-status" role="status" class="muted"></p>
        <script dangerouslySetInnerHTML={{ __html: UPLOAD_SCRIPT }} />
      </section>
      <section class="card" aria-labelledby="h-recent">
        <h2 id="h-recent">Recent imports</h2>
        {recent.length ? (
          <ul>
            {recent.map((imp) => (
              <li>
                <a href={`/dashboard/imports/${imp.id}`}>{when(imp.createdAt)}</a> · {imp.rows} rows <Badge value={imp.status === "applied" ? "done" : imp.status} />{" "}
                {imp.sourceKey ? <span class="muted">(picked up: {imp.sourceKey})</span> : null} {imp.runId ? <a href={`/dashboard/runs/${imp.runId}`}>run</a> : null}
              </li>
            ))}
          </ul>
        ) : (
          <p class="empty">No imports yet.</p>
        )}
      </section>
      <section class="card" aria-labelledby="h-pickup">
        <h2 id="h-pickup">Scheduled pickup</h2>
        <p>
          Two ways keep the directory in sync on a schedule, with the saved mapping. A job of yours sends the file with one call,{" "}
          <code>curl -X POST "{c.env.PUBLIC_URL}/v1/imports?apply=saved" -H "authorization: Bearer …" -H "content-type: text/csv" --data-binary @people.csv</code>; or the hub picks files up
          from a bucket of yours (R2, S3 or MinIO), and moves each to <code>done/</code> or <code>failed/</code> there with a report beside it.
        </p>
        <LocationForm c={c} location={location} />
        {saved ? (
          <p id="saved-mapping">
            Saved mapping ({saved.mode} mode, at most {saved.maxDisablePercent}% disabled):{" "}
            {Object.entries(saved.mapping)
              .map(([h, f]) => `${h} → ${f ?? "left out"}`)
              .join(", ")}
          </p>
        ) : (
          <p class="empty">No mapping is saved yet: preview a file and save its mapping for pickup.</p>
        )}
      </section>
    </Page>
  );
}

/**
 * The tenant's own pickup location: what it is, when it was last looked at, and — as
 * something to fix — what it answered when it refused; a form to set it (the secret is
 * asked for each time and never shown) and a button to stop.
 */
function LocationForm({ c, location }: { c: Dash; location: ImportLocationRow | null }) {
  return (
    <div id="pickup-location">
      {location ? (
        <>
          {location.lastError ? (
            <p class="notice bad" role="alert" id="location-problem">
              Needs attention: your bucket refused the hub. {location.lastError} Check the access key and the bucket, then save the location again.
            </p>
          ) : null}
          <p>
            Picking up from <code>{location.endpoint}</code>, bucket <code>{location.bucket}</code>, prefix <code>{location.prefix || "(the whole bucket)"}</code>, with key{" "}
            <code>{location.accessKeyId}</code>, every {location.everyMinutes} minutes. Last looked: {location.lastPickupAt ? when(location.lastPickupAt) : "not yet"}.
          </p>
          <form method="post" action="/dashboard/imports/location/delete">
            <Csrf c={c} />
            <button type="submit" class="secondary">
              Stop picking up
            </button>
          </form>
        </>
      ) : (
        <p class="empty">No pickup location is set.</p>
      )}
      <form method="post" action="/dashboard/imports/location" aria-label="Pickup location">
        <Csrf c={c} />
        <label for="loc-endpoint">Endpoint (https)</label>
        <input id="loc-endpoint" name="endpoint" type="url" required value={location?.endpoint ?? ""} placeholder="https://<account id>.r2.cloudflarestorage.com" />
        <label for="loc-bucket">Bucket</label>
        <input type="text" id="loc-bucket" name="bucket" required value={location?.bucket ?? ""} />
        <label for="loc-prefix">Prefix</label>
        <input type="text" id="loc-prefix" name="prefix" value={location?.prefix ?? ""} placeholder="usersync/" />
        <label for="loc-region">Region</label>
        <input type="text" id="loc-region" name="region" value={location?.region ?? "auto"} />
        <label for="loc-key">Access key id</label>
        <input type="text" id="loc-key" name="accessKeyId" required value={location?.accessKeyId ?? ""} autocomplete="off" />
        <label for="loc-secret">Secret access key</label>
        <input id="loc-secret" name="secretAccessKey" type="password" required autocomplete="new-password" />
        <label for="loc-every">Every (minutes)</label>
        <input id="loc-every" name="everyMinutes" type="number" min="1" max="1440" required value={String(location?.everyMinutes ?? 15)} />
        <button type="submit">Save the pickup location</button>
      </form>
    </div>
  );
}

/** `/dashboard/imports/{id}`: the header mapping (suggestions preselected), the preview, and apply. */
export function ImportPage(props: {
  c: Dash;
  imp: ImportRow;
  mapping?: Record<string, string | null> | undefined;
  mode?: "partial" | "full" | undefined;
  maxDisablePercent?: number | undefined;
  preview?: ImportPreview | undefined;
  problem?: string | undefined;
  errors?: FieldError[] | undefined;
  notice?: string | undefined;
}) {
  const { c, imp } = props;
  const headers = importHeaders(imp);
  const mapping = props.mapping ?? suggestMapping(headers);
  const mode = props.mode ?? "partial";
  const preview = props.preview;
  return (
    <Page
      c={c}
      title="Import"
      section="imports"
      notice={
        <>
          {props.problem ? (
            <p class="notice bad" role="alert" id="import-problem">
              {props.problem}
            </p>
          ) : null}
          {props.notice ? (
            <p class="notice" role="status">
              {props.notice}
            </p>
          ) : null}
        </>
      }
    >
      <h1>Import of {when(imp.createdAt)}</h1>
      <p>
        {imp.rows} rows, {headers.length} columns. <Badge value={imp.status === "applied" ? "done" : imp.status} /> {imp.runId ? <a href={`/dashboard/runs/${imp.runId}`}>The run</a> : null}
      </p>
      <form method="post" action={`/dashboard/imports/${imp.id}/preview`} id="import-form">
        <Csrf c={c} />
        <section class="card" aria-labelledby="h-columns">
          <h2 id="h-columns">Columns</h2>
          <p class="muted">Each column fills a directory field, an attribute, or is left out. The suggestions come from the column names.</p>
          <div class="scroll">
            <table>
              <caption class="sr-only">Column mapping</caption>
              <thead>
                <tr>
                  <th scope="col">Column in the file</th>
                  <th scope="col">Fills</th>
                </tr>
              </thead>
              <tbody>
                {headers.map((header, i) => {
                  const attribute = attributeOf(header);
                  const chosen = mapping[header] ?? "";
                  const problems = (props.errors ?? []).filter((e) => e.path === `mapping.${header}`);
                  return (
                    <tr>
                      <td>
                        <label for={`map-${i}`}>{header}</label>
                      </td>
                      <td>
                        <select id={`map-${i}`} name={`map_${i}`}>
                          <option value="" selected={chosen === ""}>
                            (leave out)
                          </option>
                          {IMPORT_FIELDS.map((f) => (
                            <option value={f} selected={chosen === f}>
                              {f}
                            </option>
                          ))}
                          {attribute ? (
                            <option value={attribute} selected={chosen === attribute}>
                              {attribute}
                            </option>
                          ) : null}
                        </select>
                        {problems.length ? <p class="field-error">{problems.map((p) => p.message).join(" ")}</p> : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <fieldset>
            <legend>Mode</legend>
            <label>
              <input type="radio" name="mode" value="partial" checked={mode === "partial"} /> Partial: the file adds and changes people
            </label>
            <label>
              <input type="radio" name="mode" value="full" checked={mode === "full"} /> Full: the file is the whole directory; everyone absent from it is disabled
            </label>
          </fieldset>
          <label for="max-disable-import">Refuse if it would disable more than (% of active people)</label>
          <input type="number" id="max-disable-import" name="maxDisablePercent" min="0" max="100" value={String(props.maxDisablePercent ?? DEFAULT_MAX_DISABLE_PERCENT)} />
          <div class="actions">
            <button type="submit" id="preview">
              Preview
            </button>
            <button type="submit" formaction={`/dashboard/imports/${imp.id}/apply`} id="apply" class={preview ? undefined : "secondary"}>
              Apply
            </button>
            <button type="submit" formaction={`/dashboard/imports/${imp.id}/save-mapping`} class="secondary" id="save-mapping">
              Save this mapping for scheduled pickup
            </button>
          </div>
        </section>
      </form>
      {preview ? <PreviewResult preview={preview} /> : null}
    </Page>
  );
}

function PreviewResult({ preview }: { preview: ImportPreview }) {
  return (
    <section class="card" aria-labelledby="h-preview" id="preview-result">
      <h2 id="h-preview">Preview: nothing has changed yet</h2>
      <p id="preview-counts">
        {preview.create} to create · {preview.update} to update · {preview.disable} to disable · {preview.unchanged} unchanged · {preview.errors.length} rows with errors (left out)
      </p>
      {preview.errors.length ? (
        <>
          <h3>Rows with errors</h3>
          <div class="scroll">
            <table id="preview-errors">
              <caption class="sr-only">Rows with errors</caption>
              <thead>
                <tr>
                  <th scope="col">Row</th>
                  <th scope="col">Column</th>
                  <th scope="col">Problem</th>
                </tr>
              </thead>
              <tbody>
                {preview.errors.map((e) => (
                  <tr>
                    <td>{e.row || "—"}</td>
                    <td>{e.column ?? "—"}</td>
                    <td>{e.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
      {preview.sample.length ? (
        <>
          <h3>The first changes</h3>
          <ul id="preview-sample">
            {preview.sample.map((s) => (
              <li>
                Row {s.row}: {s.action} {String(s.user.email ?? s.user.id)}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
