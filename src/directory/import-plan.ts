import * as v from "valibot";
import type { Db } from "../db/client";
import { absentPeopleIds, activePeopleNamed, addImportKeys, dropImportKeys, importHeaders, lookUpRows, type ImportKeyKind } from "../db/imports.repo";
import type { DirectoryUserRow, ImportRow } from "../db/schema";
import { AppError, type FieldError } from "../lib/errors";
import { isUnsafeKey } from "../lib/json-keys";
import { R2PartWriter } from "../lib/r2-parts";
import { EMAIL_PATTERN, UserInput, UserRef } from "../lib/user-fields";
import { binaryCells, csvRecords, IMPORT_FIELDS, storedFile, storedHeader } from "./csv";
import { parseProfile } from "./user";
import { pastLimitDetail, withinLimit } from "../sync/guard";

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
    // Which of two columns of one name would fill the field is anyone's guess: refuse it.
    const named = headers.filter((h) => h === header).length;
    if (named > 1) {
      errors.push({ path, message: `The file has ${named} columns named ${header}: rename them so that each mapped column has a name of its own, or leave ${header} out (null).` });
      continue;
    }
    if (!(IMPORT_FIELDS as readonly string[]).includes(target) && (!ATTRIBUTE.test(target) || isUnsafeKey(target.slice("attributes.".length)))) {
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
/** Absent people of `full` mode read together. */
const ABSENT_AT_ONCE = 500;

/**
 * Where the making of a plan is, between its steps. All of it is JSON, so that a step may
 * run in another invocation than the last (a picked-up file of any size is planned in steps
 * through the queue; an upload is planned in one invocation, one step per phase).
 */
export interface PlanState {
  planId: string;
  /** keys: every row's keys into D1; rows: every row planned; absent: the people `full` mode disables. */
  phase: "keys" | "rows" | "absent" | "done";
  /** The byte of the file where the next row starts. */
  offset: number;
  /** Where the first data row starts (after the header row). */
  dataOffset: number;
  /** Data rows read so far in this phase. */
  row: number;
  /** Data rows in the file, known when the keys are in. */
  rows: number;
  /** The next file of the plan to write (`planFileKey`). */
  file: number;
  /** The last absent person's id read. */
  after: string | null;
  create: number;
  update: number;
  disable: number;
  unchanged: number;
  absent: number;
  /** Rows left out for their errors; the first MAX_ERRORS are in `errors`. */
  errorRows: number;
  errors: RowError[];
  sample: ImportPreview["sample"];
}

const count = v.pipe(v.number(), v.integer(), v.minValue(0));

/** A plan's state as a step wrote it to R2, checked when the next step reads it back. */
export const PlanStateShape = v.object({
  planId: v.string(),
  phase: v.picklist(["keys", "rows", "absent", "done"]),
  offset: count,
  dataOffset: count,
  row: count,
  rows: count,
  file: count,
  after: v.nullable(v.string()),
  create: count,
  update: count,
  disable: count,
  unchanged: count,
  absent: count,
  errorRows: count,
  errors: v.array(v.object({ row: v.number(), column: v.nullable(v.string()), message: v.string() })),
  sample: v.array(v.object({ row: v.number(), action: v.picklist(["create", "update", "disable"]), user: v.record(v.string(), v.unknown()) })),
}) satisfies v.GenericSchema<unknown, PlanState>;

/**
 * A new plan of a file whose header row and first data row's byte are known: 422 when the
 * mapping does not fit the headers.
 */
export function newPlan(headers: string[], dataOffset: number, opts: ImportOptions, planId: string = crypto.randomUUID()): PlanState {
  const mappingErrors = checkMapping(headers, opts.mapping);
  if (mappingErrors.length) throw AppError.validation(mappingErrors, "The mapping does not fit the file.");
  return { planId, phase: "keys", offset: dataOffset, dataOffset, row: 0, rows: 0, file: 0, after: null, create: 0, update: 0, disable: 0, unchanged: 0, absent: 0, errorRows: 0, errors: [], sample: [] };
}

/** The R2 key of a plan's `n`th file: one JSON line per planned change (`PlannedLine`). */
export function planFileKey(imp: Pick<ImportRow, "tenantId" | "id">, planId: string, n: number): string {
  return `${planPrefix(imp, planId)}${n}.jsonl`;
}

/** Where the files of a plan are kept in R2. */
export function planPrefix(imp: Pick<ImportRow, "tenantId" | "id">, planId: string): string {
  return `plans/${imp.tenantId}/${imp.id}/${planId}/`;
}

/** A line of a plan file: one change the import's run makes (the absent people of `full` mode have row 0). */
/**
 * One planned change. It names its tenant and import, so that a page applying a plan
 * refuses any line that is not its own import's (runs/import.ts); a plan written before
 * lines named them (applying while the hub was deployed) goes on.
 */
export const PlannedLine = v.object({ tenantId: v.optional(v.string()), importId: v.optional(v.string()), row: v.number(), action: v.picklist(["create", "update", "disable"]), user: UserRef });

/** Writes JSON lines to an R2 object in parts. */
class LineWriter {
  private readonly encoder = new TextEncoder();
  private constructor(private readonly parts: R2PartWriter) {}

  static async open(bucket: R2Bucket, key: string): Promise<LineWriter> {
    return new LineWriter(await R2PartWriter.open(bucket, key, { httpMetadata: { contentType: "application/x-ndjson" } }));
  }

  line(value: v.InferInput<typeof PlannedLine>): Promise<void> {
    return this.parts.write(this.encoder.encode(`${JSON.stringify(value)}\n`));
  }

  close(): Promise<void> {
    return this.parts.complete();
  }

  abort(): Promise<void> {
    return this.parts.abort();
  }
}

/** How much one step does: rows (or absent people) at most, and whether it writes a plan file. */
export interface StepLimits {
  rows: number;
  write: boolean;
}

/**
 * One step of a plan, answering the state after it: up to `limits.rows` rows of the
 * phase it is in (the keys of each row into D1; or each row looked up in the directory
 * and against those keys in batches, to find rows that share an id or an e-mail; or the
 * active people no row names), then the next phase when this one is through. The rows
 * phase and the absent phase write their changes, when `limits.write`, to the plan's next
 * file. Past the rows phase, in `full` mode past `maxDisablePercent` of the active
 * people, the plan is refused (409). A step may run again (a redelivered message): the
 * keys of a row are stored once, and a plan file is written whole or not at all. Memory
 * holds one batch of rows, whatever the size of the file.
 */
export async function planStep(db: Db, bucket: R2Bucket, imp: ImportRow, opts: ImportOptions, state: PlanState, limits: StepLimits): Promise<PlanState> {
  const headers = importHeaders(imp);
  const mapped = headers.map((h) => opts.mapping[h] ?? null);
  const next: PlanState = { ...state, errors: [...state.errors], sample: [...state.sample] };
  if (next.phase === "keys") {
    await keysStep(db, bucket, imp, mapped, next, limits.rows);
    return next;
  }
  if (next.phase === "done") return next;
  const writer = limits.write ? await LineWriter.open(bucket, planFileKey(imp, state.planId, state.file)) : null;
  try {
    if (next.phase === "rows") await rowsStep(db, bucket, imp, opts, headers, mapped, next, limits.rows, writer);
    else await absentStep(db, imp, next, limits.rows, writer);
    await writer?.close();
  } catch (err) {
    await writer?.abort().catch(() => {});
    throw err;
  }
  if (writer) next.file++;
  return next;
}

/**
 * Hands the phase's next data rows (from `state.offset`, a row's start past the header
 * row), at most `limit`, to `take` with their numbers (from 1 in the file); answers where
 * the phase stands after them and whether rows are left. Leaving the loop stops the read.
 */
async function readRows(bucket: R2Bucket, imp: ImportRow, state: PlanState, limit: number, take: (cells: string[], row: number) => Promise<void>) {
  const body = await storedFile(bucket, imp.objectKey, state.offset);
  if (!body) throw new AppError("conflict", "The uploaded file is no longer stored; upload it again.");
  let offset = state.offset;
  let row = state.row;
  for await (const { cells, bytes } of csvRecords(body, imp.delimiter, { bom: false })) {
    if (row - state.row >= limit) return { offset, row, more: true };
    await take(cells, ++row);
    offset = state.offset + bytes;
  }
  return { offset, row, more: false };
}

async function keysStep(db: Db, bucket: R2Bucket, imp: ImportRow, mapped: (string | null)[], state: PlanState, limit: number): Promise<void> {
  const idIndex = mapped.indexOf("id");
  const emailIndex = mapped.indexOf("email");
  let keys: { kind: ImportKeyKind; row: number; key: string }[] = [];
  const now = Date.now();
  const read = await readRows(bucket, imp, state, limit, async (cells, row) => {
    const binary = binaryCells(cells);
    if (binary) throw binary;
    const email = (cells[emailIndex] ?? "").trim();
    if (email) keys.push({ kind: "email", row, key: email });
    const id = idIndex >= 0 ? (cells[idIndex] ?? "").trim() : "";
    if (id) keys.push({ kind: "id", row, key: id });
    if (keys.length >= KEYS_AT_ONCE) {
      await addImportKeys(db, state.planId, keys, now);
      keys = [];
    }
  });
  await addImportKeys(db, state.planId, keys, now);
  if (read.more) Object.assign(state, { offset: read.offset, row: read.row });
  else Object.assign(state, { phase: "rows", rows: read.row, row: 0, offset: state.dataOffset });
}

async function rowsStep(
  db: Db,
  bucket: R2Bucket,
  imp: ImportRow,
  opts: ImportOptions,
  headers: string[],
  mapped: (string | null)[],
  state: PlanState,
  limit: number,
  writer: LineWriter | null,
): Promise<void> {
  const idIndex = mapped.indexOf("id");
  const emailIndex = mapped.indexOf("email");
  const error = (e: RowError) => {
    state.errorRows++;
    if (state.errors.length < MAX_ERRORS) state.errors.push(e);
  };
  let batch: RowInput[] = [];
  const plan = async () => {
    const idOf = (r: RowInput) => (idIndex >= 0 && typeof r.input.id === "string" ? r.input.id : null);
    const emailOf = (r: RowInput) => (typeof r.input.email === "string" ? r.input.email : "");
    const ids = batch.map(idOf).filter((id): id is string => id !== null);
    const emails = batch.map(emailOf).filter(Boolean);
    const { byId, byEmail, sharedIds, sharedEmails, spellings } = await lookUpRows(db, imp.tenantId, state.planId, {
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
      state[action]++;
      if (action === "unchanged") continue;
      if (state.sample.length < SAMPLE) state.sample.push({ row: r.row, action, user: input });
      await writer?.line({ tenantId: imp.tenantId, importId: imp.id, row: r.row, action, user: input as v.InferInput<typeof UserRef> });
    }
    batch = [];
  };
  const read = await readRows(bucket, imp, state, limit, async (cells, row) => {
    batch.push(rowInput(row, headers, cells, opts.mapping));
    if (batch.length >= LOOKUP_ROWS) await plan();
  });
  await plan();
  if (read.more) return void Object.assign(state, { offset: read.offset, row: read.row });

  // In `full` mode, the active people no row names (a row with an error names its person too).
  const { active, named } = await activePeopleNamed(db, imp.tenantId, state.planId);
  if (opts.mode === "full") {
    state.absent = Math.max(0, active - named);
    state.disable += state.absent;
  }
  // The guard counts absent people and `disabled` rows together.
  const leaving = { leaving: state.disable, of: active, limitPercent: opts.maxDisablePercent };
  if (!withinLimit(leaving)) {
    throw new AppError("conflict", pastLimitDetail("This import would disable", leaving, "active people", "Check that the file is complete, import in partial mode, or raise maxDisablePercent for this import."));
  }
  Object.assign(state, { phase: opts.mode === "full" && state.absent > 0 ? "absent" : "done", row: 0 });
}

async function absentStep(db: Db, imp: ImportRow, state: PlanState, limit: number, writer: LineWriter | null): Promise<void> {
  for (let read = 0; read < limit; ) {
    const absent = await absentPeopleIds(db, imp.tenantId, state.planId, state.after, Math.min(ABSENT_AT_ONCE, limit - read));
    for (const id of absent) await writer?.line({ tenantId: imp.tenantId, importId: imp.id, row: 0, action: "disable", user: { id } });
    read += absent.length;
    if (absent.length === 0) break;
    state.after = absent[absent.length - 1]!;
  }
  const left = await absentPeopleIds(db, imp.tenantId, state.planId, state.after, 1);
  if (left.length === 0) state.phase = "done";
}

/** A plan made in one invocation, one step per phase, and its state at the end (its keys forgotten). */
export async function planImport(db: Db, bucket: R2Bucket, imp: ImportRow, opts: ImportOptions, write: boolean): Promise<PlanState> {
  let state = newPlan(importHeaders(imp), await dataOffsetOf(bucket, imp), opts);
  try {
    while (state.phase !== "done") state = await planStep(db, bucket, imp, opts, state, { rows: Number.POSITIVE_INFINITY, write });
    return finished(state);
  } finally {
    await dropImportKeys(db, state.planId);
  }
}

/** A finished plan's errors, with a last line saying how many more there were. */
export function finished(state: PlanState): PlanState {
  if (state.errorRows <= state.errors.length) return state;
  return { ...state, errors: [...state.errors, { row: 0, column: null, message: `${state.errorRows - state.errors.length} more rows have errors; only the first ${MAX_ERRORS} are listed.` }] };
}

/** The preview of API.md: the plan's counts, sample and row errors, nothing changed. */
export async function previewImport(db: Db, bucket: R2Bucket, imp: ImportRow, opts: ImportOptions): Promise<ImportPreview> {
  const { create, update, disable, unchanged, errors, sample } = await planImport(db, bucket, imp, opts, false);
  return { create, update, disable, unchanged, errors, sample };
}

/** Where an uploaded file's data rows start. */
async function dataOffsetOf(bucket: R2Bucket, imp: ImportRow): Promise<number> {
  const found = await storedHeader(bucket, imp.objectKey, imp.delimiter);
  return found.dataOffset;
}
