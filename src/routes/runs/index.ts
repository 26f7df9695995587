import { Hono } from "hono";
import type { TenantEnv } from "../../http/context";
import {
  approveHandlers,
  cancelHandlers,
  deleteLinkHandlers,
  linksHandlers,
  logsHandlers,
  putLinkHandlers,
  reconcileHandlers,
  resyncHandlers,
  runHandlers,
  runsHandlers,
  unmatchedHandlers,
} from "./runs.handlers";

/** Resync and reconciliation runs, links (manual mapping), the unmatched lists and the logs. */
export const runRoutes = new Hono<TenantEnv>()
  .post("/integrations/:id/resync", ...resyncHandlers)
  .post("/integrations/:id/reconcile", ...reconcileHandlers)
  .get("/integrations/:id/links", ...linksHandlers)
  .get("/integrations/:id/unmatched", ...unmatchedHandlers)
  .put("/integrations/:id/links/:userId", ...putLinkHandlers)
  .delete("/integrations/:id/links/:userId", ...deleteLinkHandlers)
  .get("/integrations/:id/logs", ...logsHandlers)
  .get("/runs", ...runsHandlers)
  .get("/runs/:id", ...runHandlers)
  .post("/runs/:id/approve", ...approveHandlers)
  .post("/runs/:id/cancel", ...cancelHandlers);
