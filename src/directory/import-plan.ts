import * as v from "valibot";
import type { Db } from "../db/client";
import { absentPeopleIds, activePeopleNamed, addImportKeys, dropImportKeys, importHeaders, lookUpRows, type ImportKeyKind } from "../db/imports.repo";
import type { DirectoryUserRow, ImportRow } from "../db/schema";
import { AppError, type FieldError } from "../lib/errors";
import { EMAIL_PATTERN, UserInput } from "../lib/user-fields";
import { csvRecords, IMPORT_FIELDS, storedFile } from "./csv";
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

/** Rows looked up in the directory together, and keys written to D1 together. */
// Fewer, bigger round trips: the runtime holds a little of each I/O until the invocation
// ends, so an invocation's memory grows with its number of round trips (docs/benchmarks.md).
const LOOKUP_ROWS = 2000;
const KEYS_AT_ONCE = 20_000;

/**
 * Plans an import without changing the directory: reads the file twice as a stream
 * (first every row's keys, written to D1 under a plan id; then every row, looked up in
 * the directory and against those keys in batches, to find rows that share an id or an
 * e-mail), and answers the counts, the first planned changes and the row errors. Rows
 * with errors are left out of the plan. In `full` mode everyone active whom no row names
 * is disabled too; past `maxDisablePercent` of the active people the plan is refused
 * (409). `onRow` receives each planned change, the absent people of `full` mode last,
 * for the apply. Memory holds one batch of rows, whatever the size of the file; the keys
 * are forgotten when the plan ends.
 */
export async function planImport(
  db: Db,
  bucket: R2Bucket,
  imp: ImportRow,
  opts: ImportOptions,
  onRow?: (row: number, action: PlannedAction, input: Record<string, unknown>) => Promise<void>,
): Promise<ImportPreview & { absent: number; errorRows: number }> {
  const headers = importHeaders(imp);
  const mappingErrors = checkMapping(headers, opts.mapping);
  if (mappingErrors.length) throw AppError.validation(mappingErrors, "The mapping does not fit the file.");
  const mapped = headers.map((h) => opts.mapping[h] ?? null);
  const idIndex = mapped.indexOf("id");
  const emailIndex = mapped.indexOf("email");
  const planId = crypto.randomUUID();
  try {
    // Pass 1: the keys of every row, into D1.
    let keys: { kind: ImportKeyKind; key: string }[] = [];
    const now = Date.now();
    for await (const { cells, line } of await records(bucket, imp)) {
      if (line === 1) continue;
      const email = (cells[emailIndex] ?? "").trim();
      if (email) keys.push({ kind: "email", key: email });
      const id = idIndex >= 0 ? (cells[idIndex] ?? "").trim() : "";
      if (id) keys.push({ kind: "id", key: id });
      if (keys.length >= KEYS_AT_ONCE) {
        await addImportKeys(db, planId, keys, now);
        keys = [];
      }
    }
    await addImportKeys(db, planId, keys, now);

    // Pass 2: every row, in batches looked up together.
    const out: ImportPreview & { absent: number } = { create: 0, update: 0, disable: 0, unchanged: 0, errors: [], sample: [], absent: 0 };
    let errorCount = 0;
    const error = (e: RowError) => {
      errorCount++;
      if (out.errors.length < MAX_ERRORS) out.errors.push(e);
    };
    let batch: RowInput[] = [];
    const plan = async () => {
      const idOf = (r: RowInput) => (idIndex >= 0 && typeof r.input.id === "string" ? r.input.id : null);
      const emailOf = (r: RowInput) => (typeof r.input.email === "string" ? r.input.email : "");
      const ids = batch.map(idOf).filter((id): id is string => id !== null);
      const emails = batch.map(emailOf).filter(Boolean);
      const { byId, byEmail, sharedIds, sharedEmails, spellings } = await lookUpRows(db, imp.tenantId, planId, {
        ids,
        emailsWithoutId: batch.filter((r) => idOf(r) === null).map(emailOf).filter(Boolean),
        emails,
      });
      const people = { id: new Map(byId.map((p) => [p.id, p])), email: new Map(byEmail.map((p) => [p.email, p])) };
      const idRows = new Set(sharedIds);
      const emailRows = new Set(sharedEmails);
      const spellingsOf = new Map(spellings.map((k) => [k.lower, v.parse(v.array(v.string()), JSON.parse(k.spellings))]));
      for (const r of batch) {
        const id = idOf(r);
        const email = emailOf(r);
        let problem = rowProblem(r);
        if (!problem && id !== null && idRows.has(id)) problem = { row: r.row, column: headers[idIndex]!, message: `The id ${id} is on more than one row of the file.` };
        if (!problem && emailRows.has(email)) problem = { row: r.row, column: headers[emailIndex]!, message: `The e-mail ${email} is on more than one row of the file.` };
        const others = (spellingsOf.get(email.toLowerCase()) ?? []).filter((e) => e !== email);
        if (!problem && others.length) problem = { row: r.row, column: headers[emailIndex]!, message: `The e-mail ${email} differs only in case from another row's (${others.join(", ")}): e-mails are compared exactly, so write each person's one way.` };
        if (problem) {
          error(problem);
          continue;
        }
        const person = id !== null ? people.id.get(id) : people.email.get(email);
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
      batch.push(rowInput(++row, headers, cells, opts.mapping));
      if (batch.length >= LOOKUP_ROWS) await plan();
    }
    await plan();

    // In `full` mode, the active people no row names (a row with an error names its person too).
    const { active, named } = await activePeopleNamed(db, imp.tenantId, planId);
    if (opts.mode === "full") {
      out.absent = Math.max(0, active - named);
      out.disable += out.absent;
    }
    // The guard counts absent people and `disabled` rows together.
    if (active > 0 && (out.disable * 100) / active > opts.maxDisablePercent) {
      throw new AppError(
        "conflict",
        `This import would disable ${out.disable} of ${active} active people (${Math.round((out.disable * 100) / active)}%), more than maxDisablePercent (${opts.maxDisablePercent}%). Check that the file is complete, import in partial mode, or raise maxDisablePercent for this import.`,
      );
    }
    if (opts.mode === "full" && out.absent > 0 && onRow) {
      for (let after: string | null = null; ; ) {
        const absent = await absentPeopleIds(db, imp.tenantId, planId, after, 500);
        for (const id of absent) await onRow(0, "disable", { id });
        if (absent.length < 500) break;
        after = absent[absent.length - 1]!;
      }
    }
    if (errorCount > out.errors.length) out.errors.push({ row: 0, column: null, message: `${errorCount - out.errors.length} more rows have errors; only the first ${MAX_ERRORS} are listed.` });
    return { ...out, errorRows: errorCount };
  } finally {
    await dropImportKeys(db, planId);
  }
}

/** The preview of API.md: the plan's counts, sample and row errors, nothing changed. */
export async function previewImport(db: Db, bucket: R2Bucket, imp: ImportRow, opts: ImportOptions): Promise<ImportPreview> {
  const { absent: _absent, errorRows: _errorRows, ...preview } = await planImport(db, bucket, imp, opts);
  return preview;
}

async function records(bucket: R2Bucket, imp: ImportRow) {
  const body = await storedFile(bucket, imp.objectKey);
  if (!body) throw new AppError("conflict", "The uploaded file is no longer stored; upload it again.");
  return csvRecords(body, imp.delimiter);
}

