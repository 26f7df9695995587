import { Hono } from "hono";
import type { AppEnv } from "../../http/context";
import { webhookHandlers } from "./webhooks.handlers";

/** Signed user events from the host app; authenticated by signature, not by API key. */
export const webhookRoutes = new Hono<AppEnv>().post("/webhooks/:tenantId", ...webhookHandlers);
