import { Hono } from "hono";
import type { TenantEnv } from "../../http/context";
import { handlerLogsHandlers, testHandlers } from "./handlers.handlers";

/** The handlers' log and the test delivery (the handlers themselves are in the integration's config). */
export const handlerRoutes = new Hono<TenantEnv>().get("/integrations/:id/handler-logs", ...handlerLogsHandlers).post("/integrations/:id/handlers/test", ...testHandlers);
