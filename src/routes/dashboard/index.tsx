import { DEFAULT_MAX_DISABLE_PERCENT } from "../../lib/config";
import { Hono, type Context } from "hono";
import { deleteCookie } from "hono/cookie";
import { readConnectedNote } from "../../auth/connected-note";
import { readSession, SESSION_COOKIE } from "../../auth/session";
import { deleteLocation, getImport, importHeaders, saveMapping } from "../../db/imports.repo";
import type { ImportRow } from "../../db/schema";
import { checkMapping, previewImport } from "../../directory/import-plan";
import { startImport } from "../../runs/import";
import { ImportPage, ImportsPage } from "./imports";
import {
  approveRunAction,
  cancelRunAction,
  changeIntegrationAction,
  createIntegrationAction,
  deleteIntegrationAction,
  linkAction,
  LocationInput,
  putLocationAction,
  runOf,
  startRunAction,
  transitionAction,
  unlinkAction,
  uploadImportAction,
} from "../../http/actions";
import type { AppEnv } from "../../http/context";
import { AppError, onError } from "../../http/errors";
import { getIntegration, type Integration } from "../../integrations/store";
import { configFromForm, formNumber, groupRulesFromForm, pullsFromForm } from "./config-form";
import { previewGroups } from "./group-preview";
import * as v from "valibot";
import { ENGINE_CONFIG_ENTRIES } from "../../lib/config";
import { fieldErrors } from "../../lib/errors";
import { connectedPage, disownForm } from "./connected";
import { connector, isProviderId } from "../../connectors";
import { DeactivatePage, DeletePage, IntegrationPage, IntegrationsOverview } from "./integrations";
import { handlersDraft, handlersFromForm, tryBeforeHandler } from "./handlers";
import { testDelivery } from "../../events/deliver";
import { HANDLER_EVENTS, type HandlerEvent } from "../../lib/config";
import type { FieldError } from "../../lib/errors";
import type { JSX } from "hono/jsx/jsx-runtime";
import { UnmatchedPage, UserPage, UsersPage } from "./people";
import { LogsPage, RunPage, RunsPage } from "./runs";
import { dashboardSession, formOf, freshSignIn, need, SignedOut, type Dash, type DashEnv } from "./session";
import { STYLE } from "./style";

/** Whether the caller reads HTML (a browser) rather than problem+json (a client). */
function wantsHtml(c: Context): boolean {
  return (c.req.header("accept") ?? "").includes("text/html");
}

function bare(title: string, body: string, status: 401 | 403 | 404 | 409 | 422 | 503 | 500) {
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} — usersync</title><link rel="icon" href="/favicon.ico" type="image/svg+xml"><link rel="stylesheet" href="/dashboard/style.css"></head><body><main id="main"><h1>${title}</h1>${body}</main></body></html>`;
  return new Response(page, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * Errors on dashboard pages: a browser gets a page saying what happened and what to do
 * next; any other caller the problem+json of the API.
 */
function dashboardError(err: Error, c: Context<DashEnv>): Response {
  const signedOut = err instanceof SignedOut;
  if (!wantsHtml(c)) return onError(signedOut ? AppError.unauthorized("Sign in to the dashboard through your app first (GET /auth/sso).") : err, c);
  if (signedOut) return bare("You are signed out", "<p>Open the dashboard from your app: it signs you in here. A sign-in link works once and for five minutes.</p>", 401);
  if (err instanceof AppError && err.status < 500) {
    const back = c.req.header("referer");
    const status = err.status as 401 | 403 | 404 | 409 | 422 | 503;
    return bare(err.kind === "not_found" ? "Not found" : err.kind === "reauth_required" ? "Sign in again" : "That did not work", `<p id="problem">${escape(err.detail ?? err.message)}</p>${back ? `<p><a href="${escape(back)}">Go back</a></p>` : `<p><a href="/dashboard">Go to the dashboard</a></p>`}`, status);
  }
  const res = onError(err, c);
  return res.status >= 500 ? bare("Something went wrong", "<p>The hub could not do this just now; nothing you did is lost. Try again in a minute.</p>", 503) : res;
}

async function importOf(c: Dash): Promise<ImportRow> {
  const imp = await getImport(c.get("db"), c.get("tenant").id, c.req.param("id") ?? "");
  if (!imp) throw AppError.notFound("import");
  return imp;
}

async function integrationOf(c: Dash): Promise<Integration> {
  const integration = await getIntegration(c.get("db"), c.get("tenant").id, c.req.param("id") ?? "");
  if (!integration) throw AppError.notFound("integration");
  return integration;
}

/** Saves a section's config change; a refused one shows the page again (422) with what was typed and each error beside it. */
async function saveConfig(c: Dash, patch: Record<string, unknown>, saved: string, refused: (integration: Integration, errors: FieldError[]) => JSX.Element) {
  need(c, "manage_integrations");
  const integration = await integrationOf(c);
  try {
    await changeIntegrationAction(c.get("db"), c.env, integration, { config: patch }, "dashboard");
  } catch (err) {
    if (!(err instanceof AppError) || err.kind !== "validation_failed") throw err;
    return c.html(refused(integration, err.errors ?? []), 422);
  }
  return c.redirect(`/dashboard/integrations/${integration.id}${saved}`, 303);
}

/** The shape of `config.groupRules`, for a preview of rules not saved yet. */
const GroupRules = v.nonOptional(ENGINE_CONFIG_ENTRIES.groupRules);

const pages = new Hono<DashEnv>()
  .use("/dashboard", dashboardSession)
  .use("/dashboard/*", dashboardSession)
  .get("/dashboard", async (c) => c.html(<IntegrationsOverview c={c} deleted={c.req.query("deleted") === "1"} />))
  .post("/dashboard/integrations", async (c) => {
    need(c, "manage_integrations");
    const { provider } = await formOf(c);
    if (!provider || !isProviderId(provider)) throw AppError.validation([{ path: "provider", message: "Choose a provider." }]);
    const integration = await createIntegrationAction(c.get("db"), c.env, c.get("tenant"), { provider });
    return c.redirect(`/dashboard/integrations/${integration.id}`, 303);
  })
  .get("/dashboard/integrations/:id", async (c) => {
    const integration = await integrationOf(c);
    const token = c.req.query("connected");
    const note = await readConnectedNote(c.env, token);
    const mine = note?.integrationId === integration.id;
    const saved = c.req.query("saved");
    const pulls = connector(integration.provider).pull !== undefined;
    const connectedWords = pulls ? "Connected. The first pull of everyone is under way; the Pulls section shows how far it is." : "Connected. Everyone already in your directory is on the way; the run below shows how far it is.";
    const notice = mine ? connectedWords : saved ? "Saved." : undefined;
    const disown = mine && note.connectionVersion === integration.connectionVersion ? disownForm(token!) : undefined;
    return c.html(<IntegrationPage c={c} integration={integration} notice={notice} disown={disown} />);
  })
  .post("/dashboard/integrations/:id/config", async (c) => {
    const { patch, draft } = configFromForm(await formOf(c));
    return saveConfig(c, patch, `?saved=${draft.section}`, (integration, errors) => <IntegrationPage c={c} integration={integration} draft={{ ...draft, errors }} />);
  })
  .post("/dashboard/integrations/:id/network", async (c) => {
    const { networkId } = await formOf(c);
    return saveConfig(c, { networkId: networkId ?? "" }, "?saved=network", (integration, errors) => <IntegrationPage c={c} integration={integration} notice={errors.map((e) => e.message).join(" ")} />);
  })
  .post("/dashboard/integrations/:id/groups", async (c) => {
    const form = await formOf(c);
    const { groupRules, rows } = groupRulesFromForm(form);
    if (form.intent === "preview") {
      need(c, "manage_integrations");
      const integration = await integrationOf(c);
      const checked = v.safeParse(GroupRules, groupRules);
      if (!checked.success) return c.html(<IntegrationPage c={c} integration={integration} groups={{ rows, errors: fieldErrors(checked.issues, "config.groupRules") }} />, 422);
      const preview = await previewGroups(c.get("db"), integration, checked.output);
      return c.html(<IntegrationPage c={c} integration={integration} groups={{ rows, preview }} />);
    }
    return saveConfig(c, { groupRules, groupRulesReviewed: true }, "?saved=groups#h-groups", (integration, errors) => <IntegrationPage c={c} integration={integration} groups={{ rows, errors }} />);
  })
  .post("/dashboard/integrations/:id/pulls", async (c) => {
    const form = await formOf(c);
    const integration = await integrationOf(c);
    const { patch, values } = pullsFromForm(form, integration.config.schedule);
    return saveConfig(c, patch, "?saved=pulls#h-pulls", (i, errors) => <IntegrationPage c={c} integration={i} pulls={{ values, errors }} />);
  })
  .post("/dashboard/integrations/:id/handlers", async (c) => {
    const { patch, draft } = handlersFromForm(await formOf(c));
    return saveConfig(c, patch, "?saved=handlers#handlers", (integration, errors) => <IntegrationPage c={c} integration={integration} handlers={{ draft, errors }} />);
  })
  .post("/dashboard/integrations/:id/handlers/try", async (c) => {
    need(c, "manage_integrations");
    const integration = await integrationOf(c);
    const form = await formOf(c);
    const expr = (form.beforeExpr ?? "").trim();
    const tried = await tryBeforeHandler(c.get("db"), integration, expr, (form.userId ?? "").trim());
    return c.html(<IntegrationPage c={c} integration={integration} handlers={{ draft: { ...handlersDraft(integration), beforeExpr: expr }, tried }} />);
  })
  .post("/dashboard/integrations/:id/handlers/test", async (c) => {
    need(c, "manage_integrations");
    const integration = await integrationOf(c);
    const { event } = await formOf(c);
    const type = (HANDLER_EVENTS as readonly string[]).includes(event ?? "") ? (event as HandlerEvent) : "user.synced";
    const result = await testDelivery(c.get("db"), c.env, integration, type);
    return c.html(<IntegrationPage c={c} integration={integration} handlers={{ tested: { event: type, ...result } }} />);
  })
  .post("/dashboard/integrations/:id/activate", async (c) => {
    need(c, "manage_integrations");
    await transitionAction(c.get("db"), c.env, c.get("tenant"), await integrationOf(c), "activate", "dashboard");
    return c.redirect(`/dashboard/integrations/${c.req.param("id")}`, 303);
  })
  // Deactivating stops every sync, so it asks first and needs a recent sign-in, like deleting.
  .get("/dashboard/integrations/:id/deactivate", async (c) => c.html(<DeactivatePage c={c} integration={await integrationOf(c)} />))
  .post("/dashboard/integrations/:id/deactivate", async (c) => {
    need(c, "manage_integrations");
    const integration = await integrationOf(c);
    const again = freshSignIn(c, `/dashboard/integrations/${integration.id}/deactivate`);
    if (again) return again;
    await transitionAction(c.get("db"), c.env, c.get("tenant"), integration, "deactivate", "dashboard");
    return c.redirect(`/dashboard/integrations/${integration.id}`, 303);
  })
  .get("/dashboard/integrations/:id/delete", async (c) => c.html(<DeletePage c={c} integration={await integrationOf(c)} />))
  .post("/dashboard/integrations/:id/delete", async (c) => {
    need(c, "manage_integrations");
    const integration = await integrationOf(c);
    const again = freshSignIn(c, `/dashboard/integrations/${integration.id}/delete`);
    if (again) return again;
    await deleteIntegrationAction(c.get("db"), c.env, integration);
    return c.redirect("/dashboard?deleted=1", 303);
  })
  .post("/dashboard/integrations/:id/:kind{resync|reconcile}", async (c) => {
    need(c, "manage_integrations");
    const integration = await integrationOf(c);
    const { userId } = await formOf(c);
    const kind = c.req.param("kind") === "reconcile" ? "reconcile" : "resync";
    const run = await startRunAction(c.get("db"), c.env, integration, kind, "dashboard", userId ? [userId] : null);
    return c.redirect(`/dashboard/runs/${run.id}`, 303);
  })
  .get("/dashboard/integrations/:id/unmatched", async (c) => c.html(<UnmatchedPage c={c} integration={await integrationOf(c)} />))
  .post("/dashboard/integrations/:id/links/:userId", async (c) => {
    need(c, "manage_integrations");
    const integration = await integrationOf(c);
    const { remoteId } = await formOf(c);
    try {
      await linkAction(c.get("db"), c.env, integration, c.req.param("userId"), (remoteId ?? "").trim());
    } catch (err) {
      if (!(err instanceof AppError) || (err.kind !== "validation_failed" && err.kind !== "conflict")) throw err;
      const why = err.errors?.map((e) => e.message).join(" ") || err.detail || "The link was refused.";
      return c.html(<UnmatchedPage c={c} integration={integration} notice={`Not linked: ${why}`} />, err.status as 409 | 422);
    }
    return c.html(<UnmatchedPage c={c} integration={integration} notice={`Linked ${c.req.param("userId")} to record ${remoteId}; their values are on the way to it.`} />);
  })
  .post("/dashboard/integrations/:id/links/:userId/unlink", async (c) => {
    need(c, "manage_integrations");
    const integration = await integrationOf(c);
    await unlinkAction(c.get("db"), integration, c.req.param("userId"));
    return c.html(<UnmatchedPage c={c} integration={integration} notice={`Unlinked ${c.req.param("userId")}: they are not matched again until you link them.`} />);
  })
  .get("/dashboard/integrations/:id/logs", async (c) => {
    const before = Number(c.req.query("before"));
    return c.html(
      <LogsPage
        c={c}
        integration={await integrationOf(c)}
        filter={{ userId: c.req.query("userId"), action: c.req.query("action"), status: c.req.query("status") }}
        before={Number.isInteger(before) && before > 0 ? before : null}
      />,
    );
  })
  .get("/dashboard/users", async (c) => c.html(<UsersPage c={c} q={(c.req.query("q") ?? "").slice(0, 200)} after={c.req.query("after") ?? null} />))
  .get("/dashboard/users/:userId", async (c) => {
    const page = await UserPage({ c, userId: c.req.param("userId") });
    if (!page) throw AppError.notFound("person");
    return c.html(page);
  })
  .get("/dashboard/runs", async (c) => c.html(<RunsPage c={c} integrationId={c.req.query("integrationId")} cursor={c.req.query("cursor")} />))
  .get("/dashboard/runs/:id", async (c) => {
    const page = await RunPage({ c, runId: c.req.param("id") });
    if (!page) throw AppError.notFound("run");
    return c.html(page);
  })
  .post("/dashboard/runs/:id/approve", async (c) => {
    need(c, "manage_integrations");
    const run = await runOf(c.get("db"), c.get("tenant").id, c.req.param("id"));
    const again = freshSignIn(c, `/dashboard/runs/${run.id}`);
    if (again) return again;
    await approveRunAction(c.get("db"), c.env, run);
    return c.redirect(`/dashboard/runs/${run.id}`, 303);
  })
  .post("/dashboard/runs/:id/cancel", async (c) => {
    need(c, "manage_integrations");
    const run = await runOf(c.get("db"), c.get("tenant").id, c.req.param("id"));
    await cancelRunAction(c.get("db"), run);
    return c.redirect(`/dashboard/runs/${run.id}`, 303);
  })
  .get("/dashboard/imports", async (c) => c.html(<ImportsPage c={c} />))
  .post("/dashboard/imports", async (c) => {
    need(c, "manage_users");
    if (!/^multipart\/form-data\b/i.test(c.req.header("content-type") ?? "")) {
      // The page's script sends the file as it is (text/csv): streamed into R2 like the
      // API's upload, never held whole. Answers where the import's page is.
      const imp = await uploadImportAction(c.get("db"), c.env, c.get("tenant").id, c.req.raw.body);
      return c.json({ id: imp.id, location: `/dashboard/imports/${imp.id}` }, 201);
    }
    // Without the script: a form post, which the form parser holds whole (up to 50 MiB).
    const file = (await c.req.parseBody()).file;
    try {
      if (!(file instanceof File) || file.size === 0) throw AppError.validation([{ path: "file", message: "Choose a CSV file to upload." }]);
      const imp = await uploadImportAction(c.get("db"), c.env, c.get("tenant").id, file.stream());
      return c.redirect(`/dashboard/imports/${imp.id}`, 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const why = err.errors?.map((e) => e.message).join(" ") || err.detail || "The file was refused.";
      return c.html(<ImportsPage c={c} problem={`Not uploaded: ${why}`} />, err.status as 413 | 422);
    }
  })
  .post("/dashboard/imports/location", async (c) => {
    need(c, "manage_users");
    const { _csrf: _, ...fields } = await formOf(c);
    const parsed = v.safeParse(LocationInput, { kind: "s3", ...fields, everyMinutes: formNumber(fields.everyMinutes) });
    try {
      if (!parsed.success) throw AppError.validation(parsed.issues.map((i) => ({ path: v.getDotPath(i) ?? "(form)", message: i.message })));
      await putLocationAction(c.get("db"), c.env, c.get("tenant").id, parsed.output);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const why = err.errors?.map((e) => `${e.path}: ${e.message}`).join(" ") || err.detail || "The location was refused.";
      return c.html(<ImportsPage c={c} problem={`Not saved: ${why}`} />, 422);
    }
    return c.redirect("/dashboard/imports#pickup-location", 303);
  })
  .post("/dashboard/imports/location/delete", async (c) => {
    need(c, "manage_users");
    await deleteLocation(c.get("db"), c.get("tenant").id);
    return c.redirect("/dashboard/imports#pickup-location", 303);
  })
  .get("/dashboard/imports/:id", async (c) => c.html(<ImportPage c={c} imp={await importOf(c)} />))
  .post("/dashboard/imports/:id/:step{preview|apply|save-mapping}", async (c) => {
    need(c, "manage_users");
    const imp = await importOf(c);
    const form = await formOf(c);
    const headers = importHeaders(imp);
    const mapping = Object.fromEntries(headers.map((h, i) => [h, form[`map_${i}`] || null]));
    const mode = form.mode === "full" ? "full" : "partial";
    const percent = Number(form.maxDisablePercent);
    const maxDisablePercent = Number.isFinite(percent) && percent >= 0 && percent <= 100 ? percent : DEFAULT_MAX_DISABLE_PERCENT;
    const shown = { c, imp, mapping, mode, maxDisablePercent } as const;
    try {
      if (c.req.param("step") === "save-mapping") {
        const errors = checkMapping(headers, mapping);
        if (errors.length) throw AppError.validation(errors, "The mapping does not fit the file.");
        await saveMapping(c.get("db"), imp.tenantId, { mapping, mode, maxDisablePercent });
        return c.html(<ImportPage {...shown} notice="Saved: scheduled pickup applies files with this mapping." />);
      }
      if (c.req.param("step") === "apply") {
        const { run } = await startImport(c.get("db"), c.env, imp, { mapping, mode, maxDisablePercent }, "dashboard");
        return c.redirect(`/dashboard/runs/${run.id}`, 303);
      }
      const preview = await previewImport(c.get("db"), c.env.FILES, imp, { mapping, mode, maxDisablePercent });
      return c.html(<ImportPage {...shown} preview={preview} />);
    } catch (err) {
      if (!(err instanceof AppError) || (err.kind !== "validation_failed" && err.kind !== "conflict")) throw err;
      return c.html(<ImportPage {...shown} problem={err.detail} errors={err.errors} />, err.status as 409 | 422);
    }
  })
  .post("/dashboard/sign-out", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/dashboard/signed-out", 303);
  });
pages.onError(dashboardError);

/**
 * The dashboard (API.md "Dashboard"): server-rendered pages under /dashboard behind the
 * session that `GET /auth/sso` opens. Forms work without JavaScript; a run's page follows
 * it live with a few lines of script.
 */
export const dashboardRoutes = new Hono<AppEnv>()
  .get("/dashboard/style.css", (c) => c.body(STYLE, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" }))
  .get("/dashboard/signed-out", () => bare("You are signed out", "<p>Open the dashboard from your app to sign in again.</p>", 401))
  /**
   * The page the OAuth callback lands on. A browser without a session of that tenant (the
   * person who consented may be someone else) sees what was connected, from the signed
   * note; everyone else goes on to the integration's page.
   */
  .get("/dashboard/integrations/:id", async (c, next) => {
    const token = c.req.query("connected");
    const note = await readConnectedNote(c.env, token);
    if (!note || note.integrationId !== c.req.param("id")) return next();
    const current = await readSession(c, c.env);
    if (current && current.tenantId === note.tenantId) return next();
    return connectedPage(c, note, token!);
  })
  .route("/", pages);
