import { Hono } from "hono";
import { readConnectedNote } from "../../../auth/connected-note";
import { changeIntegrationAction, createIntegrationAction, deleteIntegrationAction, startRunAction, transitionAction } from "../../../http/actions";
import { AppError } from "../../../http/errors";
import type { Integration } from "../../../integrations/store";
import { configFromForm, groupRulesFromForm, pullsFromForm } from "./config-form";
import { previewGroups } from "./group-preview";
import * as v from "valibot";
import { ENGINE_CONFIG_ENTRIES } from "../../../lib/config";
import { fieldErrors } from "../../../lib/errors";
import { disownForm } from "./connected";
import { connector, isProviderId } from "../../../connectors";
import { tryBeforeHandler } from "./loaders";
import { IntegrationPage, IntegrationsOverview } from "./pages";
import { DeactivatePage, DeletePage } from "./views";
import { handlersDraft, handlersFromForm } from "./handlers";
import { testDelivery } from "../../../events/deliver";
import { HANDLER_EVENTS, type HandlerEvent } from "../../../lib/config";
import type { FieldError } from "../../../lib/errors";
import type { JSX } from "hono/jsx/jsx-runtime";
import { formOf, freshSignIn, need, type Dash, type DashEnv } from "../session";
import { integrationOf } from "../loaders";

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

/** A confirmed step (`…/delete`, `…/deactivate`): with a sign-in within 10 minutes it is done and the browser goes on; without, to sign in again. */
async function confirmed(c: Dash, step: "delete" | "deactivate", act: (integration: Integration) => Promise<string>) {
  need(c, "manage_integrations");
  const integration = await integrationOf(c);
  const again = freshSignIn(c, `/dashboard/integrations/${integration.id}/${step}`);
  return again ?? c.redirect(await act(integration), 303);
}

/** The shape of `config.groupRules`, for a preview of rules not saved yet. */
const GroupRules = v.nonOptional(ENGINE_CONFIG_ENTRIES.groupRules);

/** The integrations' pages: the overview, each integration with its settings, and its lifecycle (enable, connect, deactivate, delete, resync). */
export const integrationPages = new Hono<DashEnv>()
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
  // Deactivating and deleting each ask first on a page of their own, and need a recent sign-in.
  .get("/dashboard/integrations/:id/deactivate", async (c) => c.html(<DeactivatePage c={c} integration={await integrationOf(c)} />))
  .post("/dashboard/integrations/:id/deactivate", (c) =>
    confirmed(c, "deactivate", async (integration) => {
      await transitionAction(c.get("db"), c.env, c.get("tenant"), integration, "deactivate", "dashboard");
      return `/dashboard/integrations/${integration.id}`;
    }),
  )
  .get("/dashboard/integrations/:id/delete", async (c) => c.html(<DeletePage c={c} integration={await integrationOf(c)} />))
  .post("/dashboard/integrations/:id/delete", (c) =>
    confirmed(c, "delete", async (integration) => {
      await deleteIntegrationAction(c.get("db"), c.env, integration);
      return "/dashboard?deleted=1";
    }),
  )
  .post("/dashboard/integrations/:id/:kind{resync|reconcile}", async (c) => {
    need(c, "manage_integrations");
    const integration = await integrationOf(c);
    const { userId } = await formOf(c);
    const kind = c.req.param("kind") === "reconcile" ? "reconcile" : "resync";
    const run = await startRunAction(c.get("db"), c.env, integration, kind, "dashboard", userId ? [userId] : null);
    return c.redirect(`/dashboard/runs/${run.id}`, 303);
  });
