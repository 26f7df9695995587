import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import * as v from "valibot";
import type { AppEnv } from "../../http/context";
import { jsonResponse } from "../../http/openapi";

const Health = v.object({ ok: v.boolean(), database: v.boolean() });

/** `/livez`: the Worker runs (no I/O). `/healthz`: and D1 answers a trivial query. */
export const systemRoutes = new Hono<AppEnv>()
  .get(
    "/livez",
    describeRoute({ tags: ["System"], summary: "Liveness (no I/O)", responses: { 200: { description: "Alive" } } }),
    (c) => c.text("ok"),
  )
  .get(
  "/healthz",
  describeRoute({
    tags: ["System"],
    summary: "Health check",
    responses: { 200: jsonResponse("Healthy", Health), 503: jsonResponse("D1 unreachable", Health) },
  }),
  async (c) => {
    const database = await c.env.DB.prepare("SELECT 1 AS ok")
      .first<{ ok: number }>()
      .then((r) => r?.ok === 1)
      .catch(() => false);
    return c.json({ ok: database, database }, database ? 200 : 503);
  },
);
