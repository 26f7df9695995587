import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { openAPIRouteHandler } from "hono-openapi";
import type { AppEnv, TenantEnv } from "./http/context";
import { SESSION_COOKIE } from "./auth/session";
import { AppError, onError } from "./http/errors";
import { limitBody, requireJsonBody, tenantAuth, withDb } from "./http/middleware";
import { routePermissions } from "./http/permissions";
import { directoryRoutes } from "./routes/directory";
import { integrationRoutes } from "./routes/integrations";
import { oauthRoutes } from "./routes/oauth";
import { dashboardRoutes } from "./routes/dashboard";
import { importRoutes } from "./routes/imports";
import { every } from "hono/combine";
import { sessionRoutes } from "./routes/session";
import { runRoutes } from "./routes/runs";
import { linkRoutes } from "./routes/links";
import { logRoutes } from "./routes/logs";
import { handlerRoutes } from "./routes/handlers";
import { systemRoutes } from "./routes/system";
import { operatorRoutes, tenantRoutes } from "./routes/tenants";
import { webhookRoutes } from "./routes/webhooks";

/** The hub's HTTP app: middlewares, error handling and every router. Shared with tests. */
export function createApp() {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  // A known path with another method is a 405 with Allow (RFC 9110); anything else, 404.
  app.notFound((c) => {
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length) {
      throw new AppError("method_not_allowed", `${c.req.method} is not allowed here; use ${allowed.join(", ")}.`, undefined, { allow: allowed.join(", ") });
    }
    throw new AppError("not_found", "No such route.");
  });

  app.use("*", requestId());
  app.use("*", withDb);
  app.route("/", systemRoutes);
  app.route("/", webhookRoutes);
  app.route("/", oauthRoutes);
  app.route("/", sessionRoutes);
  app.route("/", dashboardRoutes);

  // JSON bodies of at most 256 KiB everywhere in /v1, except the CSV upload (50 MiB, streamed).
  const jsonBodies = every(limitBody(), requireJsonBody);
  app.use("/v1/*", (c, next) => (c.req.method === "POST" && c.req.path === "/v1/imports" ? next() : jsonBodies(c, next)));
  app.route("/v1", operatorRoutes);

  const tenantApi = new Hono<TenantEnv>();
  tenantApi.use("*", tenantAuth, routePermissions);
  tenantApi.route("/", tenantRoutes);
  tenantApi.route("/", directoryRoutes);
  tenantApi.route("/", integrationRoutes);
  tenantApi.route("/", runRoutes);
  tenantApi.route("/", linkRoutes);
  tenantApi.route("/", logRoutes);
  tenantApi.route("/", handlerRoutes);
  tenantApi.route("/", importRoutes);
  app.route("/v1", tenantApi);

  app.get(
    "/openapi.json",
    openAPIRouteHandler(app, {
      documentation: {
        openapi: "3.1.0",
        info: {
          title: "usersync",
          version: "1.0.0",
          description: "User-sync hub: the HTTP contract (docs/api.md in the repository). Errors are application/problem+json (RFC 9457).",
          license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
        },
        servers: [{ url: "/", description: "This hub (PUBLIC_URL)" }],
        components: {
          securitySchemes: {
            apiKey: { type: "http", scheme: "bearer", description: "Tenant API key (usk_…)" },
            operatorToken: { type: "http", scheme: "bearer", description: "OPERATOR_TOKEN secret" },
            session: {
              type: "apiKey",
              in: "cookie",
              name: SESSION_COOKIE,
              description: "Dashboard session from GET /auth/sso. A request that changes something also needs the hub's Origin or the x-csrf-token header.",
            },
          },
        },
      },
    }),
  );
  return app;
}

export type App = ReturnType<typeof createApp>;

const patterns = new WeakMap<object, { regex: RegExp; method: string }[]>();

/** The methods the app's routes answer for a path (HEAD with GET), or none. */
function allowedMethods(app: Hono<AppEnv>, path: string): string[] {
  let compiled = patterns.get(app);
  if (!compiled) {
    compiled = app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => ({ method: r.method, regex: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\/:[^/]+/g, "/[^/]+")}/?$`) }));
    patterns.set(app, compiled);
  }
  const methods = new Set(compiled.filter((p) => p.regex.test(path)).map((p) => p.method));
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}
