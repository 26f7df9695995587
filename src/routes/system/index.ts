import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import type { AppEnv } from "../../http/context";
import { jsonResponse } from "../../http/openapi";
import { settingsProblems } from "../../settings";
import { providerSettingsProblems } from "../../connectors";

const Health = v.object({
  ok: v.boolean(),
  database: v.boolean(),
  settings: v.object({ ok: v.boolean(), problems: v.array(v.string()) }),
});

/** `/livez`: the Worker runs (no I/O). `/healthz`: and D1 answers a trivial query. */
export const systemRoutes = new Hono<AppEnv>()
  .get(
    "/livez",
    describeRoute({ tags: ["System"], summary: "Liveness (no I/O)", security: [], responses: { 200: { description: "Alive", content: { "text/plain": { schema: { type: "string" } } } } } }),
    (c) => c.text("ok"),
  )
  .get(
  "/healthz",
  describeRoute({
    tags: ["System"],
    summary: "Health check",
    description: "503 names what is wrong: D1 unreachable, or settings that would make requests fail (never their values).",
    security: [],
    responses: { 200: jsonResponse("Healthy", Health), 503: jsonResponse("D1 unreachable or a setting is wrong", Health) },
  }),
  async (c) => {
    const database = await c.env.DB.prepare("SELECT 1 AS ok")
      .first<{ ok: number }>()
      .then((r) => r?.ok === 1)
      .catch(() => false);
    const problems = [...providerSettingsProblems(c.env), ...settingsProblems(c.env)];
    const ok = database && problems.length === 0;
    return c.json({ ok, database, settings: { ok: problems.length === 0, problems } }, ok ? 200 : 503);
  },
);
