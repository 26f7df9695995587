import * as v from "valibot";
import type { Db } from "../db/client";
import { activePeopleCount, importHeaders, peopleByEmails, peopleByIds } from "../db/imports.repo";
import type { DirectoryUserRow, ImportRow } from "../db/schema";
import { AppError, type FieldError } from "../lib/errors";
import { EMAIL_PATTERN, UserInput } from "../lib/user-fields";
import { csvRecords, IMPORT_FIELDS } from "./csv";
import { parseProfile } from "./user";

/** How a file's columns become people (API.md "CSV imports"). */
export interface ImportOptions {
  /** Header → user field, `attributes.<name>`, or null (left out). Headers not named are left out. */
  mapping: Record<string, string | null>;
  /** `full`: everyone active who is absent from the file is disabled. */
  mode: "partial" | "full";
  /** The most of the active people a file may disable, in percent. */
  maxDisablePercent: number;
}

export type PlannedAction = "create" | "update" | "disable" | "unchanged";

export interface RowError {
  row: number;
  column: string | null;
  message: string;
}

export interface ImportPreview {
  create: number;
  update: number;
  disable: number;
  unchanged: number;
  errors: RowError[];
  sample: { row: number; action: Exclude<PlannedAction, "unchanged">; user: Record<string, unknown> }[];
}

const SAMPLE = 20;
/** Row errors answered at most; the counts cover every row. */
const MAX_ERRORS = 1000;
const ATTRIBUTE = /^attributes\.[^.\s]{1,64}$/;

/** Checks a mapping against the file's headers: 422 with `mapping.<header>` paths. */
export function checkMapping(headers: string[], mapping: Record<string, string | null>): FieldError[] {
  const errors: FieldError[] = [];
  const targets = new Map<string, string>();
  for (const [header, target] of Object.entries(mapping)) {
    const path = `mapping.${header}`;
    if (!headers.includes(header)) errors.push({ path, message: `The file has no column ${header}.` });
    if (target === null) continue;
    if (!(IMPORT_FIELDS as readonly string[]).includes(target) && !ATTRIBUTE.test(target)) {
      errors.push({ path, message: `Expected one of ${IMPORT_FIELDS.join(", ")}, attributes.<name>, or null to leave the column out.` });
      continue;
    }
    const other = targets.get(target);
    if (other) errors.push({ path, message: `${target} is already filled from ${other}.` });
    targets.set(target, header);
  }
  if (![...targets.keys()].includes("email")) errors.push({ path: "mapping", message: "Map a column to email: every person needs one." });
  return errors;
}

/** A row as a user input, with the header each field came from. */
interface RowInput {
  row: number;
  input: Record<string, unknown> & { attributes?: Record<string, string> };
  columnOf: Map<string, string>;
}

function rowInput(row: number, headers: string[], cells: string[], mapping: Record<string, string | null>): RowInput {
  const input: RowInput["input"] = {};
  const columnOf = new Map<string, string>();
  headers.forEach((header, i) => {
    const target = mapping[header];
    if (!target) return;
    const value = (cells[i] ?? "").trim();
    columnOf.set(target.startsWith("attributes.") ? "attributes" : target, header);
    if (target.startsWith("attributes.")) {
      if (value) (input.attributes ??= {})[target.slice("attributes.".length)] = value;
      return;
    }
    if (value === "") return;
    input[target] = value;
  });
  return { row, input, columnOf };
}

const STATUS_WORDS: Record<string, "active" | "disabled"> = { active: "active", enabled: "active", disabled: "disabled", inactive: "disabled" };

/** What is wrong with a row by itself (the whole-file checks come later), or null. */
function rowProblem(r: RowInput): RowError | null {
  const col = (field: string) => r.columnOf.get(field) ?? null;
  const email = r.input.email;
  if (typeof email !== "string" || email === "") return { row: r.row, column: col("email"), message: "The e-mail is missing." };
  if (!EMAIL_PATTERN.test(email)) return { row: r.row, column: col("email"), message: `${email} is not an e-mail address.` };
  if (typeof r.input.status === "string") {
    const status = STATUS_WORDS[r.input.status.toLowerCase()];
    if (!status) return { row: r.row, column: col("status"), message: `Unknown status value ${r.input.status}: use active or disabled.` };
    r.input.status = status;
  }
  const parsed = v.safeParse(UserInput, { ...r.input, id: r.input.id ?? email });
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const key = issue.path?.[0]?.key;
    const field = typeof key === "string" ? key : "";
    const what = field === "dateOfBirth" ? `${String(r.input.dateOfBirth)}: expected a calendar date as YYYY-MM-DD.` : issue.message;
    return { row: r.row, column: col(field), message: what };
  }
  return null;
}

/** Whether every mapped field of the row equals what the directory holds. */
function sameAsStored(input: RowInput["input"], person: DirectoryUserRow): boolean {
  const profile = parseProfile(person.profile);
  const stored: Record<string, unknown> = { id: person.id, email: person.email, firstName: person.firstName, lastName: person.lastName, status: person.status, ...profile };
  for (const [field, value] of Object.entries(input)) {
    if (field === "attributes") {
      for (const [name, text] of Object.entries(value as Record<string, string>)) if ((profile.attributes ?? {})[name] !== text) return false;
      continue;
    }
    if ((stored[field] ?? null) !== value) return false;
  }
  return true;
}

/**
 * Plans an import without changing anything: reads the file twice as a stream (first the
 * keys, to find rows that share an id or e-mail; then every row, looked up in the
 * directory in batches), and answers the counts, the first planned changes and the row
 * errors. Rows with errors are left out of the plan. In `full` mode everyone active who is
 * absent from the file is disabled too; past `maxDisablePercent` of the active people the
 * plan is refused (409). `onRow` receives each planned row, for the apply.
 */
export async function planImport(
  db: Db,
  bucket: R2Bucket,
  imp: ImportRow,
  opts: ImportOptions,
  onRow?: (row: number, action: PlannedAction, input: Record<string, unknown>) => Promise<void>,
): Promise<ImportPreview & { absent: number; errorRows: number; present: Set<string> }> {
  const headers = importHeaders(imp);
  const mappingErrors = checkMapping(headers, opts.mapping);
  if (mappingErrors.length) throw AppError.validation(mappingErrors, "The mapping does not fit the file.");
  const mapped = headers.map((h) => opts.mapping[h] ?? null);
  const idIndex = mapped.indexOf("id");
  const emailIndex = mapped.indexOf("email");

  // Pass 1: the keys of every row.
  const idCount = new Map<string, number>();
  const emailCount = new Map<string, number>();
  const casesOf = new Map<string, Set<string>>();
  for await (const { cells, line } of await records(bucket, imp)) {
    if (line === 1) continue;
    const email = (cells[emailIndex] ?? "").trim();
    if (email) {
      emailCount.set(email, (emailCount.get(email) ?? 0) + 1);
      const lower = email.toLowerCase();
      const cases = casesOf.get(lower) ?? new Set<string>();
      cases.add(email);
      casesOf.set(lower, cases);
    }
    if (idIndex >= 0) {
      const id = (cells[idIndex] ?? "").trim();
      if (id) idCount.set(id, (idCount.get(id) ?? 0) + 1);
    }
  }

  // Pass 2: every row, in batches looked up together.
  const out: ImportPreview & { absent: number } = { create: 0, update: 0, disable: 0, unchanged: 0, errors: [], sample: [], absent: 0 };
  /** The active people the file names (error rows included): in `full` mode, the others are absent. */
  let errorCount = 0;
  const activeSeen = new Set<string>();
  const error = (e: RowError) => {
    errorCount++;
    if (out.errors.length < MAX_ERRORS) out.errors.push(e);
  };
  let batch: RowInput[] = [];
  const plan = async () => {
    const keyed = batch.map((r) => (idIndex >= 0 && typeof r.input.id === "string" ? r.input.id : String(r.input.email)));
    const found = idIndex >= 0 ? await peopleByIds(db, imp.tenantId, keyed) : await peopleByEmails(db, imp.tenantId, keyed);
    const byKey = new Map(found.map((p) => [idIndex >= 0 ? p.id : p.email, p]));
    for (const [i, r] of batch.entries()) {
      const person = byKey.get(keyed[i]!);
      if (person?.status === "active") activeSeen.add(person.id);
      const problem = (r as RowInput & { problem?: RowError }).problem;
      if (problem) continue;
      // A new person without an id column gets the e-mail, exactly as written, as id.
      const input: Record<string, unknown> = { ...r.input, id: person?.id ?? r.input.id ?? r.input.email };
      const action: PlannedAction = !person ? "create" : input.status === "disabled" && person.status === "active" ? "disable" : sameAsStored(r.input, person) ? "unchanged" : "update";
      out[action]++;
      if (action !== "unchanged" && out.sample.length < SAMPLE) out.sample.push({ row: r.row, action, user: input });
      await onRow?.(r.row, action, input);
    }
    batch = [];
  };
  let row = 0;
  for await (const { cells, line } of await records(bucket, imp)) {
    if (line === 1) continue;
    row++;
    const r = rowInput(row, headers, cells, opts.mapping);
    let problem = rowProblem(r);
    const email = typeof r.input.email === "string" ? r.input.email : "";
    if (!problem && idIndex >= 0 && typeof r.input.id === "string" && (idCount.get(r.input.id) ?? 0) > 1) problem = { row, column: headers[idIndex]!, message: `The id ${r.input.id} is on more than one row of the file.` };
    if (!problem && (emailCount.get(email) ?? 0) > 1) problem = { row, column: headers[emailIndex]!, message: `The e-mail ${email} is on more than one row of the file.` };
    if (!problem && (casesOf.get(email.toLowerCase())?.size ?? 0) > 1) problem = { row, column: headers[emailIndex]!, message: `The e-mail ${email} differs only in case from another row's (${[...casesOf.get(email.toLowerCase())!].filter((e) => e !== email).join(", ")}): e-mails are compared exactly, so write each person's one way.` };
    if (problem) error(problem);
    // A row with an error is left out of the plan, but its person is not absent from the file.
    if (problem && !email && !(idIndex >= 0 && r.input.id)) continue;
    batch.push(Object.assign(r, problem ? { problem } : {}));
    if (batch.length >= 90) await plan();
  }
  await plan();
  const active = await activePeopleCount(db, imp.tenantId);
  if (opts.mode === "full") {
    out.absent = Math.max(0, active - activeSeen.size);
    out.disable += out.absent;
  }
  // The guard counts absent people and `disabled` rows together.
  if (active > 0 && (out.disable * 100) / active > opts.maxDisablePercent) {
    throw new AppError(
      "conflict",
      `This import would disable ${out.disable} of ${active} active people (${Math.round((out.disable * 100) / active)}%), more than maxDisablePercent (${opts.maxDisablePercent}%). Check that the file is complete, import in partial mode, or raise maxDisablePercent for this import.`,
    );
  }
  if (errorCount > out.errors.length) out.errors.push({ row: 0, column: null, message: `${errorCount - out.errors.length} more rows have errors; only the first ${MAX_ERRORS} are listed.` });
  return { ...out, errorRows: errorCount, present: activeSeen };
}

async function records(bucket: R2Bucket, imp: ImportRow) {
  const object = await bucket.get(imp.objectKey);
  if (!object) throw new AppError("conflict", "The uploaded file is no longer stored; upload it again.");
  return csvRecords(object.body, imp.delimiter);
}

