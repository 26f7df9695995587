import { DEFAULT_MAX_DISABLE_PERCENT } from "../../lib/config";
import { createFactory } from "hono/factory";
import type { Db } from "../../db/client";
import { deleteLocation, getImport, getLocation, getSavedMapping, importHeaders, listImports, saveMapping } from "../../db/imports.repo";
import type { ImportRow } from "../../db/schema";
import { suggestMapping } from "../../directory/csv";
import { locationView, putLocationAction, uploadAndApplyAction, uploadImportAction } from "../../http/actions";
import { checkMapping, previewImport } from "../../directory/import-plan";
import { startImport } from "../../runs/import";
import { triggerOf } from "../../http/loaders";
import type { TenantEnv } from "../../http/context";
import { AppError } from "../../http/errors";
import { decodeCursor, encodeCursor } from "../../http/pagination";
import { validate } from "../../http/validate";
import { iso } from "../../lib/time";
import { contracts, ImportParams, ListImportsQuery, LocationBody, MappingBody, PreviewBody, UploadQuery } from "./imports.routes";

const factory = createFactory<TenantEnv>();

function importView(row: ImportRow) {
  const headers = importHeaders(row);
  return { id: row.id, rows: row.rows, headers, suggestedMapping: suggestMapping(headers), status: row.status, runId: row.runId, createdAt: iso(row.createdAt)! };
}

/** API.md: `text/csv` (any charset parameter) and `application/csv`. */
function isCsv(type: string | undefined): boolean {
  return /^(text|application)\/csv\s*(;|$)/i.test(type ?? "");
}

async function load(db: Db, tenantId: string, id: string): Promise<ImportRow> {
  const row = await getImport(db, tenantId, id);
  if (!row) throw AppError.notFound("import");
  return row;
}

export const uploadHandlers = factory.createHandlers(contracts.upload, validate("query", UploadQuery), async (c) => {
  if (!isCsv(c.req.header("content-type"))) throw new AppError("unsupported_media_type", "Send the file as text/csv.");
  if (c.req.valid("query").apply === "saved") {
    const { imp, run } = await uploadAndApplyAction(c.get("db"), c.env, c.get("tenant").id, c.req.raw.body, triggerOf(c));
    return c.json({ id: imp.id, runId: run.id }, 202);
  }
  const row = await uploadImportAction(c.get("db"), c.env, c.get("tenant").id, c.req.raw.body);
  return c.json(importView(row), 201);
});

export const getLocationHandlers = factory.createHandlers(contracts.getLocation, async (c) => {
  const row = await getLocation(c.get("db"), c.get("tenant").id);
  if (!row) throw AppError.notFound("pickup location");
  return c.json(locationView(row), 200);
});

export const putLocationHandlers = factory.createHandlers(contracts.putLocation, validate("json", LocationBody), async (c) => {
  const row = await putLocationAction(c.get("db"), c.env, c.get("tenant").id, c.req.valid("json"));
  return c.json(locationView(row), 200);
});

export const deleteLocationHandlers = factory.createHandlers(contracts.deleteLocation, async (c) => {
  if (!(await deleteLocation(c.get("db"), c.get("tenant").id))) throw AppError.notFound("pickup location");
  return c.body(null, 204);
});

export const listHandlers = factory.createHandlers(contracts.list, validate("query", ListImportsQuery), async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const key = decodeCursor(cursor);
  const [createdAt, id] = key ? key.split(":") : [];
  const rows = await listImports(c.get("db"), c.get("tenant").id, key ? { createdAt: Number(createdAt), id: id ?? "" } : null, limit + 1);
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return c.json({ data: data.map(importView), nextCursor: rows.length > limit && last ? encodeCursor(`${last.createdAt}:${last.id}`) : null });
});

export const getHandlers = factory.createHandlers(contracts.get, validate("param", ImportParams), async (c) => c.json(importView(await load(c.get("db"), c.get("tenant").id, c.req.valid("param").id))));

export const previewHandlers = factory.createHandlers(contracts.preview, validate("param", ImportParams), validate("json", PreviewBody), async (c) => {
  const imp = await load(c.get("db"), c.get("tenant").id, c.req.valid("param").id);
  const body = c.req.valid("json");
  const preview = await previewImport(c.get("db"), c.env.FILES, imp, { mapping: body.mapping, mode: body.mode, maxDisablePercent: body.maxDisablePercent ?? DEFAULT_MAX_DISABLE_PERCENT });
  return c.json(preview, 200);
});

export const applyHandlers = factory.createHandlers(contracts.apply, validate("param", ImportParams), validate("json", PreviewBody), async (c) => {
  const imp = await load(c.get("db"), c.get("tenant").id, c.req.valid("param").id);
  const body = c.req.valid("json");
  const { run } = await startImport(c.get("db"), c.env, imp, { mapping: body.mapping, mode: body.mode, maxDisablePercent: body.maxDisablePercent ?? DEFAULT_MAX_DISABLE_PERCENT }, triggerOf(c));
  return c.json({ runId: run.id }, 202);
});

export const getMappingHandlers = factory.createHandlers(contracts.getMapping, async (c) => {
  const saved = await getSavedMapping(c.get("db"), c.get("tenant").id);
  if (!saved) throw AppError.notFound("saved mapping");
  return c.json(saved, 200);
});

export const putMappingHandlers = factory.createHandlers(contracts.putMapping, validate("json", MappingBody), async (c) => {
  const body = c.req.valid("json");
  const errors = checkMapping(Object.keys(body.mapping), body.mapping);
  if (errors.length) throw AppError.validation(errors);
  await saveMapping(c.get("db"), c.get("tenant").id, body);
  return c.json(body, 200);
});
