import { Hono } from "hono";
import type { AppEnv, TenantEnv } from "../../http/context";
import { createTenantHandlers, currentTenantHandlers, patchTenantHandlers, rotateHandlers, tenantProvidersHandlers } from "./tenants.handlers";

/** `POST /v1/tenants` and `PATCH /v1/tenants/{id}`: behind the operator token, not a tenant key. */
export const operatorRoutes = new Hono<AppEnv>().post("/tenants", ...createTenantHandlers).patch("/tenants/:id", ...tenantProvidersHandlers);

/** `GET`/`PATCH /v1/tenant` and `POST /v1/secrets/rotate`: behind tenant authentication. */
export const tenantRoutes = new Hono<TenantEnv>()
  .get("/tenant", ...currentTenantHandlers)
  .patch("/tenant", ...patchTenantHandlers)
  .post("/secrets/rotate", ...rotateHandlers);
