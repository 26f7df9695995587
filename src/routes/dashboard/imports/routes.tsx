import { DEFAULT_MAX_DISABLE_PERCENT } from "../../../lib/config";
import { Hono } from "hono";
import { deleteLocation, importHeaders, saveMapping } from "../../../db/imports.repo";
import { checkMapping, previewImport } from "../../../directory/import-plan";
import { startImport } from "../../../runs/import";
import { ImportsPage } from "./pages";
import { ImportPage } from "./views";
import { LocationInput, putLocationAction, uploadImportAction } from "../../../http/actions";
import { AppError } from "../../../http/errors";
import { formNumber } from "../integrations/config-form";
import * as v from "valibot";
import { formOf, need, type DashEnv } from "../session";
import { importOf } from "../loaders";

/** The imports' pages: upload, mapping, preview, apply, the saved mapping and the pickup location. */
export const importPages = new Hono<DashEnv>()
  .get("/dashboard/imports", async (c) => c.html(<ImportsPage c={c} />))
  .post("/dashboard/imports", async (c) => {
    need(c, "manage_users");
    if (!/^multipart\/form-data\b/i.test(c.req.header("content-type") ?? "")) {
      // The page's script sends the file as it is (text/csv): streamed into R2 like the
      // API's upload, never held whole. Answers where the import's page is.
      const imp = await uploadImportAction(c.get("db"), c.env, c.get("tenant").id, c.req.raw.body);
      return c.json({ id: imp.id, location: `/dashboard/imports/${imp.id}` }, 201);
    }
    // Without the script: a form post, which the form parser holds whole (up to 50 MiB).
    const file = (await c.req.parseBody()).file;
    try {
      if (!(file instanceof File) || file.size === 0) throw AppError.validation([{ path: "file", message: "Choose a CSV file to upload." }]);
      const imp = await uploadImportAction(c.get("db"), c.env, c.get("tenant").id, file.stream());
      return c.redirect(`/dashboard/imports/${imp.id}`, 303);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const why = err.errors?.map((e) => e.message).join(" ") || err.detail || "The file was refused.";
      return c.html(<ImportsPage c={c} problem={`Not uploaded: ${why}`} />, err.status as 413 | 422);
    }
  })
  .post("/dashboard/imports/location", async (c) => {
    need(c, "manage_users");
    const { _csrf: _, ...fields } = await formOf(c);
    const parsed = v.safeParse(LocationInput, { kind: "s3", ...fields, everyMinutes: formNumber(fields.everyMinutes) });
    try {
      if (!parsed.success) throw AppError.validation(parsed.issues.map((i) => ({ path: v.getDotPath(i) ?? "(form)", message: i.message })));
      await putLocationAction(c.get("db"), c.env, c.get("tenant").id, parsed.output);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const why = err.errors?.map((e) => `${e.path}: ${e.message}`).join(" ") || err.detail || "The location was refused.";
      return c.html(<ImportsPage c={c} problem={`Not saved: ${why}`} />, 422);
    }
    return c.redirect("/dashboard/imports#pickup-location", 303);
  })
  .post("/dashboard/imports/location/delete", async (c) => {
    need(c, "manage_users");
    await deleteLocation(c.get("db"), c.get("tenant").id);
    return c.redirect("/dashboard/imports#pickup-location", 303);
  })
  .get("/dashboard/imports/:id", async (c) => c.html(<ImportPage c={c} imp={await importOf(c)} />))
  .post("/dashboard/imports/:id/:step{preview|apply|save-mapping}", async (c) => {
    need(c, "manage_users");
    const imp = await importOf(c);
    const form = await formOf(c);
    const headers = importHeaders(imp);
    const mapping = Object.fromEntries(headers.map((h, i) => [h, form[`map_${i}`] || null]));
    const mode = form.mode === "full" ? "full" : "partial";
    const percent = Number(form.maxDisablePercent);
    const maxDisablePercent = Number.isFinite(percent) && percent >= 0 && percent <= 100 ? percent : DEFAULT_MAX_DISABLE_PERCENT;
    const shown = { c, imp, mapping, mode, maxDisablePercent } as const;
    try {
      if (c.req.param("step") === "save-mapping") {
        const errors = checkMapping(headers, mapping);
        if (errors.length) throw AppError.validation(errors, "The mapping does not fit the file.");
        await saveMapping(c.get("db"), imp.tenantId, { mapping, mode, maxDisablePercent });
        return c.html(<ImportPage {...shown} notice="Saved: scheduled pickup applies files with this mapping." />);
      }
      if (c.req.param("step") === "apply") {
        const { run } = await startImport(c.get("db"), c.env, imp, { mapping, mode, maxDisablePercent }, "dashboard");
        return c.redirect(`/dashboard/runs/${run.id}`, 303);
      }
      const preview = await previewImport(c.get("db"), c.env.FILES, imp, { mapping, mode, maxDisablePercent });
      return c.html(<ImportPage {...shown} preview={preview} />);
    } catch (err) {
      if (!(err instanceof AppError) || (err.kind !== "validation_failed" && err.kind !== "conflict")) throw err;
      return c.html(<ImportPage {...shown} problem={err.detail} errors={err.errors} />, err.status as 409 | 422);
    }
  });
