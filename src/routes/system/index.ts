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

/** The hub's icon: two arrows in a circle (sync), in the dashboard's accent colour. */
const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="15" fill="#1f4e9c"/><path d="M9 14a7 7 0 0 1 12.5-3.5M23 18a7 7 0 0 1-12.5 3.5" fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/><path d="M22.5 6.5v5h-5M9.5 25.5v-5h5" fill="none" stroke="#fff" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

/** `/livez`: the Worker runs (no I/O). `/healthz`: and D1 answers a trivial query. `/favicon.ico`: the icon every browser asks for. */
export const systemRoutes = new Hono<AppEnv>()
  // Outside the API contract, like the dashboard's pages it serves.
  .get("/favicon.ico", (c) => c.body(FAVICON, 200, { "content-type": "image/svg+xml", "cache-control": "public, max-age=86400" }))
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
