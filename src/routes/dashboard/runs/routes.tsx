import { Hono } from "hono";
import { approveRunAction, cancelRunAction, runOf } from "../../../http/actions";
import { AppError } from "../../../http/errors";
import { LogsPage, RunPage, RunsPage } from "./pages";
import { freshSignIn, need, type DashEnv } from "../session";
import { integrationOf } from "../loaders";

/** The runs' pages, a run followed live with approve and cancel, and an integration's sync log. */
export const runPages = new Hono<DashEnv>()
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
  });
