import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { openAPIRouteHandler } from "hono-openapi";
import type { AppEnv, TenantEnv } from "./http/context";
import { AppError, onError } from "./http/errors";
import { limitBody, requireJsonBody, tenantAuth, withDb } from "./http/middleware";
import { directoryRoutes } from "./routes/directory";
import { integrationRoutes } from "./routes/integrations";
import { oauthRoutes } from "./routes/oauth";
import { runRoutes } from "./routes/runs";
import { systemRoutes } from "./routes/system";
import { operatorRoutes, tenantRoutes } from "./routes/tenants";
import { webhookRoutes } from "./routes/webhooks";

/** The hub's HTTP app: middlewares, error handling and every router. Shared with tests. */
export function createApp() {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(() => {
    throw new AppError("not_found", "No such route.");
  });

  app.use("*", requestId());
  app.use("*", withDb);
  app.route("/", systemRoutes);
  app.route("/", webhookRoutes);
  app.route("/", oauthRoutes);

  app.use("/v1/*", limitBody(), requireJsonBody);
  app.route("/v1", operatorRoutes);

  const tenantApi = new Hono<TenantEnv>();
  tenantApi.use("*", tenantAuth);
  tenantApi.route("/", tenantRoutes);
  tenantApi.route("/", directoryRoutes);
  tenantApi.route("/", integrationRoutes);
  tenantApi.route("/", runRoutes);
  app.route("/v1", tenantApi);

  app.get(
    "/openapi.json",
    openAPIRouteHandler(app, {
      documentation: {
        openapi: "3.1.0",
        info: {
          title: "usersync",
          version: "1.0.0",
          description: "User-sync hub: the HTTP contract of ../shared/API.md. Errors are application/problem+json (RFC 9457).",
        },
        components: {
          securitySchemes: {
            apiKey: { type: "http", scheme: "bearer", description: "Tenant API key (usk_…)" },
            operatorToken: { type: "http", scheme: "bearer", description: "OPERATOR_TOKEN secret" },
          },
        },
      },
    }),
  );
  return app;
}

export type App = ReturnType<typeof createApp>;
