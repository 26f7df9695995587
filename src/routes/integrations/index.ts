import { Hono } from "hono";
import type { TenantEnv } from "../../http/context";
import {
  activateHandlers,
  connectHandlers,
  createHandlers,
  deactivateHandlers,
  deleteHandlers,
  getHandlers,
  listHandlers,
  networksHandlers,
  patchHandlers,
  providersHandlers,
} from "./integrations.handlers";

/** `/v1/providers` and `/v1/integrations…`: lifecycle and OAuth connect. */
export const integrationRoutes = new Hono<TenantEnv>()
  .get("/providers", ...providersHandlers)
  .post("/integrations", ...createHandlers)
  .get("/integrations", ...listHandlers)
  .get("/integrations/:id", ...getHandlers)
  .patch("/integrations/:id", ...patchHandlers)
  .delete("/integrations/:id", ...deleteHandlers)
  .post("/integrations/:id/connect", ...connectHandlers)
  .get("/integrations/:id/networks", ...networksHandlers)
  .post("/integrations/:id/deactivate", ...deactivateHandlers)
  .post("/integrations/:id/activate", ...activateHandlers);
