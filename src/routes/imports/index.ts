import { Hono } from "hono";
import type { TenantEnv } from "../../http/context";
import { getHandlers, listHandlers, previewHandlers, uploadHandlers } from "./imports.handlers";

/** CSV imports (API.md): upload, list, read and preview. */
export const importRoutes = new Hono<TenantEnv>()
  .post("/imports", ...uploadHandlers)
  .get("/imports", ...listHandlers)
  .get("/imports/:id", ...getHandlers)
  .post("/imports/:id/preview", ...previewHandlers);
