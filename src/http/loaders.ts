import type { Context } from "hono";
import * as v from "valibot";
import { getIntegration, type Integration } from "../integrations/store";
import { targetOf, type Target } from "../sync/target";
import type { TenantEnv } from "./context";
import { AppError } from "./errors";
import { safeText } from "../lib/user-fields";

/** A directory user's id in a path or a body: what a user's `id` may be. */
export const UserIdParam = v.pipe(safeText(256), v.minLength(1));

/** The `{id}` of an integration in a path (shared by every route folder that takes one). */
export const IntegrationParams = v.object({ id: v.pipe(v.string(), v.minLength(1), v.maxLength(64)) });

/** The integration named by the path, of the caller's tenant; 404 otherwise. */
export async function loadIntegration(c: Context<TenantEnv>, id: string): Promise<Integration> {
  const integration = await getIntegration(c.get("db"), c.get("tenant").id, id);
  if (!integration) throw AppError.notFound("integration");
  return integration;
}

/** A run's `trigger` for a request: the dashboard's session, or the API. */
export function triggerOf(c: Context<TenantEnv>): "dashboard" | "api" {
  return c.get("auth").kind === "session" ? "dashboard" : "api";
}

/** Runs and manual links need an active integration whose provider pushes people: its target. */
export function assertRunnable(integration: Integration): Target {
  if (integration.status !== "active") throw AppError.conflict(`The integration is ${integration.status}; activate or reconnect it first.`);
  const target = targetOf(integration);
  if (!target) throw AppError.conflict(`${integration.provider} does not push people yet; its integrations do not run resyncs, reconciliations or manual links.`);
  return target;
}
