import { Hono } from "hono";
import type { TenantEnv } from "../../http/context";
import { applyHandlers, getHandlers, getMappingHandlers, listHandlers, previewHandlers, putMappingHandlers, uploadHandlers } from "./imports.handlers";

/** CSV imports (API.md): upload, list, read, preview, apply, and the saved mapping for scheduled pickup. */
export const importRoutes = new Hono<TenantEnv>()
  .post("/imports", ...uploadHandlers)
  .get("/imports", ...listHandlers)
  .get("/imports/mapping", ...getMappingHandlers)
  .put("/imports/mapping", ...putMappingHandlers)
  .get("/imports/:id", ...getHandlers)
  .post("/imports/:id/preview", ...previewHandlers)
  .post("/imports/:id/apply", ...applyHandlers);
