import { Hono } from "hono";
import type { TenantEnv } from "../../http/context";
import {
  applyHandlers,
  deleteLocationHandlers,
  getHandlers,
  getLocationHandlers,
  getMappingHandlers,
  listHandlers,
  previewHandlers,
  putLocationHandlers,
  putMappingHandlers,
  uploadHandlers,
} from "./imports.handlers";

/** CSV imports (API.md): upload (and upload-and-apply), list, read, preview, apply, the saved mapping, and the tenant's own pickup location. */
export const importRoutes = new Hono<TenantEnv>()
  .post("/imports", ...uploadHandlers)
  .get("/imports", ...listHandlers)
  .get("/imports/mapping", ...getMappingHandlers)
  .put("/imports/mapping", ...putMappingHandlers)
  .get("/imports/location", ...getLocationHandlers)
  .put("/imports/location", ...putLocationHandlers)
  .delete("/imports/location", ...deleteLocationHandlers)
  .get("/imports/:id", ...getHandlers)
  .post("/imports/:id/preview", ...previewHandlers)
  .post("/imports/:id/apply", ...applyHandlers);
