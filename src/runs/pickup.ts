import type { Db } from "../db/client";
import { claimPickup, describeImport, getSavedMapping, setImportStatus } from "../db/imports.repo";
import type { ImportRow } from "../db/schema";
import { describeCsv, storedDelimiter } from "../directory/csv";
import type { Env } from "../env";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { errorText, logger } from "../lib/log";
import { startImport } from "./import";
import { fileAway, INBOX, nameOf } from "./pickup-report";

/**
 * Scheduled pickup (API.md "CSV imports"): files dropped under `inbox/{tenantId}/` in the
 * R2 bucket, by any S3 client on a schedule, are imported on the next cron tick with the
 * tenant's saved mapping, then moved to `done/{tenantId}/` or `failed/{tenantId}/` with a
 * `<name>.report.json` beside them. A file is claimed by one insert keyed by its key and
 * etag, so two overlapping ticks import it once. There is no size limit here: the file is
 * read as a stream.
 */

/** Files one tick looks at; the rest wait for the next. */
const PER_TICK = 100;

/** The import of each new file in the inbox starts; answers how many were claimed. */
export async function pickupInbox(db: Db, env: Env, now = Date.now()): Promise<number> {
  const listed = await env.FILES.list({ prefix: INBOX, limit: PER_TICK });
  let claimed = 0;
  for (const object of listed.objects) {
    const where = nameOf(object.key);
    if (!where) continue;
    let imp: ImportRow | null;
    try {
      imp = await claimPickup(db, {
        id: newId("imp"),
        tenantId: where.tenantId,
        objectKey: object.key,
        bytes: object.size,
        rows: 0,
        headers: "[]",
        delimiter: ",",
        pickupKey: `${object.key}@${object.etag}`,
        createdAt: now,
      });
    } catch (err) {
      // No such tenant (the row's tenant must exist): the file is left for an operator.
      logger({ key: object.key }).warn("inbox file of an unknown tenant left in place", { error: errorText(err) });
      continue;
    }
    if (!imp) continue;
    claimed++;
    await startPickup(db, env, imp, where.name);
  }
  return claimed;
}

async function startPickup(db: Db, env: Env, claimed: ImportRow, name: string): Promise<void> {
  let imp = claimed;
  try {
    const delimiter = await storedDelimiter(env.FILES, imp.objectKey);
    const { headers, rows } = await describeCsv(env.FILES, imp.objectKey, delimiter);
    const found = { rows, headers: JSON.stringify(headers), delimiter };
    await describeImport(db, imp.id, found);
    imp = { ...imp, ...found };
    const saved = await getSavedMapping(db, imp.tenantId);
    if (!saved) throw AppError.validation([{ path: "mapping", message: "No saved mapping: save one with PUT /v1/imports/mapping (or on the dashboard's Import page) for scheduled pickup." }]);
    await startImport(db, env, imp, saved, "pickup");
  } catch (err) {
    if (!(err instanceof AppError)) logger({ importId: imp.id }).error("pickup failed", { error: errorText(err) });
    const detail = err instanceof AppError ? (err.errors?.map((e) => `${e.path}: ${e.message}`).join(" ") || err.detail) : "The hub could not read the file.";
    await setImportStatus(db, imp.id, "failed");
    await fileAway(env, db, imp, name, { importId: imp.id, runId: null, status: "failed", file: name, rows: imp.rows, detail: detail ?? "refused", finishedAt: new Date().toISOString() });
  }
}
