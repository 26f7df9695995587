import { Hono } from "hono";
import { linkAction, unlinkAction } from "../../../http/actions";
import { AppError } from "../../../http/errors";
import { UnmatchedPage, UserPage, UsersPage } from "./pages";
import { formOf, need, type DashEnv } from "../session";
import { integrationOf } from "../loaders";

/** The people's pages: the directory, one person with their links and log, the unmatched of an integration, and linking by hand. */
export const peoplePages = new Hono<DashEnv>()
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
  .get("/dashboard/users", async (c) => c.html(<UsersPage c={c} q={(c.req.query("q") ?? "").slice(0, 200)} after={c.req.query("after") ?? null} />))
  .get("/dashboard/users/:userId", async (c) => {
    const page = await UserPage({ c, userId: c.req.param("userId") });
    if (!page) throw AppError.notFound("person");
    return c.html(page);
  });
