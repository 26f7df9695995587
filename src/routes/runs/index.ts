import { Hono } from "hono";
import type { TenantEnv } from "../../http/context";
import { approveHandlers, cancelHandlers, reconcileHandlers, resyncHandlers, runHandlers, runsHandlers } from "./runs.handlers";

/** Resync and reconciliation runs: starting, listing, approving and cancelling them. */
export const runRoutes = new Hono<TenantEnv>()
  .post("/integrations/:id/resync", ...resyncHandlers)
  .post("/integrations/:id/reconcile", ...reconcileHandlers)
  .get("/runs", ...runsHandlers)
  .get("/runs/:id", ...runHandlers)
  .post("/runs/:id/approve", ...approveHandlers)
  .post("/runs/:id/cancel", ...cancelHandlers);
