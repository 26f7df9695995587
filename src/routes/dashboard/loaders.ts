import { getImport } from "../../db/imports.repo";
import type { ImportRow } from "../../db/schema";
import { AppError } from "../../http/errors";
import { getIntegration, type Integration } from "../../integrations/store";
import type { Dash } from "./session";

/** What the dashboard's pages load by the path's id: another tenant's id is simply not found. */

export async function integrationOf(c: Dash): Promise<Integration> {
  const integration = await getIntegration(c.get("db"), c.get("tenant").id, c.req.param("id") ?? "");
  if (!integration) throw AppError.notFound("integration");
  return integration;
}

export async function importOf(c: Dash): Promise<ImportRow> {
  const imp = await getImport(c.get("db"), c.get("tenant").id, c.req.param("id") ?? "");
  if (!imp) throw AppError.notFound("import");
  return imp;
}
