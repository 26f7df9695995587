import { Hono } from "hono";
import { deleteCookie } from "hono/cookie";
import { readConnectedNote } from "../../auth/connected-note";
import { readSession, SESSION_COOKIE } from "../../auth/session";
import type { AppEnv } from "../../http/context";
import { bare, dashboardError } from "./errors";
import { connectedPage } from "./integrations/connected";
import { importPages } from "./imports/routes";
import { integrationPages } from "./integrations/routes";
import { peoplePages } from "./people/routes";
import { runPages } from "./runs/routes";
import { dashboardSession, type DashEnv } from "./session";
import { STYLE } from "./style";

/**
 * Every page behind the session, by resource: each folder has its routes, and its views,
 * which get what they show as props. What a page and the API both do is in
 * `http/actions.ts`; the session and its CSRF check are in `session.ts`.
 */
const pages = new Hono<DashEnv>()
  .use("/dashboard", dashboardSession)
  .use("/dashboard/*", dashboardSession)
  .route("/", integrationPages)
  .route("/", peoplePages)
  .route("/", runPages)
  .route("/", importPages)
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
