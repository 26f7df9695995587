import { createMiddleware } from "hono/factory";
import type { TenantEnv } from "./context";
import { AppError } from "./errors";

export type Permission = "manage_integrations" | "manage_users";

/**
 * The permission each tenant route needs from a dashboard session (API.md), in one
 * place; an API key may do everything. Reading needs none. docs/api.md shows this table,
 * and a test checks that every route that changes something is in it.
 */
export const ROUTE_PERMISSIONS: Record<string, readonly Permission[]> = {
  "POST /v1/secrets/rotate": ["manage_integrations", "manage_users"],
  "PATCH /v1/tenant": ["manage_integrations", "manage_users"],
  "PUT /v1/directory/users/:id": ["manage_users"],
  "POST /v1/imports": ["manage_users"],
  "POST /v1/imports/:id/preview": ["manage_users"],
  "POST /v1/imports/:id/apply": ["manage_users"],
  "PUT /v1/imports/mapping": ["manage_users"],
  "PUT /v1/imports/location": ["manage_users"],
  "DELETE /v1/imports/location": ["manage_users"],
  "DELETE /v1/directory/users/:id": ["manage_users"],
  "POST /v1/integrations": ["manage_integrations"],
  "PATCH /v1/integrations/:id": ["manage_integrations"],
  "DELETE /v1/integrations/:id": ["manage_integrations"],
  "POST /v1/integrations/:id/connect": ["manage_integrations"],
  "POST /v1/integrations/:id/activate": ["manage_integrations"],
  "POST /v1/integrations/:id/deactivate": ["manage_integrations"],
  "POST /v1/integrations/:id/resync": ["manage_integrations"],
  "POST /v1/integrations/:id/reconcile": ["manage_integrations"],
  "POST /v1/integrations/:id/handlers/test": ["manage_integrations"],
  "PUT /v1/integrations/:id/links/:userId": ["manage_integrations"],
  "DELETE /v1/integrations/:id/links/:userId": ["manage_integrations"],
  "POST /v1/runs/:id/approve": ["manage_integrations"],
  "POST /v1/runs/:id/cancel": ["manage_integrations"],
};

const compiled = Object.entries(ROUTE_PERMISSIONS).map(([route, needs]) => {
  const [method, path] = route.split(" ") as [string, string];
  return { method, regex: new RegExp(`^${path.replace(/:[^/]+/g, "[^/]+")}/?$`), needs };
});

/** What a request to `method path` needs from a session. */
export function permissionsFor(method: string, path: string): readonly Permission[] {
  return compiled.find((r) => r.method === method && r.regex.test(path))?.needs ?? [];
}

/** 403 unless the dashboard session carries every permission the route needs. */
export const routePermissions = createMiddleware<TenantEnv>(async (c, next) => {
  const auth = c.get("auth");
  if (auth.kind === "session") {
    const missing = permissionsFor(c.req.method, c.req.path).filter((p) => !auth.permissions.includes(p));
    if (missing.length) throw new AppError("forbidden", `This needs the ${missing.join(" and ")} permission${missing.length > 1 ? "s" : ""}.`);
  }
  await next();
});
