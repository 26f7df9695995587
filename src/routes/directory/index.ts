import { Hono } from "hono";
import type { TenantEnv } from "../../http/context";
import { deleteUserHandlers, getUserHandlers, listUsersHandlers, putUserHandlers } from "./directory.handlers";

/** `/v1/directory/users`: the source side, over REST. */
export const directoryRoutes = new Hono<TenantEnv>()
  .get("/directory/users", ...listUsersHandlers)
  .put("/directory/users/:id", ...putUserHandlers)
  .get("/directory/users/:id", ...getUserHandlers)
  .delete("/directory/users/:id", ...deleteUserHandlers);
