import { Hono } from "hono";
import type { TenantEnv } from "../../http/context";
import { logsHandlers } from "./logs.handlers";

/** One line per action taken on a remote system. */
export const logRoutes = new Hono<TenantEnv>().get("/integrations/:id/logs", ...logsHandlers);
