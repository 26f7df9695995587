import { Hono } from "hono";
import type { TenantEnv } from "../../http/context";
import { deleteLinkHandlers, linksCsvHandlers, linksHandlers, putLinkHandlers, unmatchedHandlers } from "./links.handlers";

/** Links (manual mapping included) and the unmatched lists of an integration. */
export const linkRoutes = new Hono<TenantEnv>()
  .get("/integrations/:id/links.csv", ...linksCsvHandlers)
  .get("/integrations/:id/links", ...linksHandlers)
  .get("/integrations/:id/unmatched", ...unmatchedHandlers)
  .put("/integrations/:id/links/:userId", ...putLinkHandlers)
  .delete("/integrations/:id/links/:userId", ...deleteLinkHandlers);
