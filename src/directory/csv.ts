import { Buffer } from "node:buffer";
import { parse, type CsvError } from "csv-parse";
import { PROFILE_FIELDS } from "../lib/user-fields";
import { isUnsafeKey } from "../lib/json-keys";
import { AppError } from "../lib/errors";
import { R2PartWriter } from "../lib/r2-parts";

/**
 * CSV files as a source (API.md "CSV imports"): streamed into R2 as they arrive, read back
 * as a stream of records with csv-parse (RFC 4180 quoting, embedded newlines, a UTF-8 BOM;
 * comma or semicolon, sniffed from the header row). No file is ever held whole in memory.
 */

/** API.md: an upload may be at most 50 MiB, chunked or not. */
export const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;

export type Delimiter = "," | ";";

/**
 * Streams a request body into R2 under `key`, in parts, refusing (413) past `maxBytes`,
 * and (422) a body that is empty, holds NUL bytes (a binary file) or is not UTF-8. On any
 * refusal nothing is left in the bucket. Answers the size and the delimiter of the header row.
 */
export async function storeUpload(bucket: R2Bucket, key: string, body: ReadableStream<Uint8Array> | null, maxBytes = MAX_UPLOAD_BYTES): Promise<{ bytes: number; delimiter: Delimiter }> {
  if (!body) throw AppError.validation([{ path: "(body)", message: "The file is empty." }]);
  const writer = await R2PartWriter.open(bucket, key, { httpMetadata: { contentType: "text/csv; charset=utf-8" } });
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const notUtf8 = () => AppError.validation([{ path: "(body)", message: "The file is not UTF-8 text: save it as CSV UTF-8." }]);
  let bytes = 0;
  let head = "";
  try {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (bytes > maxBytes) throw new AppError("payload_too_large", `The file is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB; split it, or drop it into the R2 inbox for scheduled pickup.`);
      if (value.includes(0)) throw AppError.validation([{ path: "(body)", message: "This is not a text file (it holds NUL bytes): upload a CSV file." }]);
      try {
        const text = decoder.decode(value, { stream: true });
        if (head.length < 64 * 1024) head += text;
      } catch {
        throw notUtf8();
      }
      await writer.write(value);
    }
    if (bytes === 0 || !head.replace(/^\uFEFF/, "").trim()) throw AppError.validation([{ path: "(body)", message: "The file is empty." }]);
    try {
      decoder.decode();
    } catch {
      throw notUtf8();
    }
    await writer.complete();
    return { bytes, delimiter: sniffDelimiter(head) };
  } catch (err) {
    await writer.abort().catch(() => {});
    throw err;
  }
}

/** The delimiter of the header row: the one of `,` and `;` that appears more often outside quotes. */
export function sniffDelimiter(text: string): Delimiter {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (const ch of text.replace(/^\uFEFF/, "")) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === "\n" || ch === "\r")) break;
    else if (!quoted && ch === ",") commas++;
    else if (!quoted && ch === ";") semicolons++;
  }
  return semicolons > commas ? ";" : ",";
}

/** The longest record a file may hold (characters), and the most cells a row may have. */
export const MAX_RECORD_CHARS = 1024 * 1024;
const MAX_CELLS = 500;

function refuseFile(message: string): AppError {
  return AppError.validation([{ path: "(body)", message }]);
}

/** One record of the file: its cells, where it starts (1 = the header row) and the bytes read up to its end. */
export interface CsvRecord {
  cells: string[];
  line: number;
  /** Bytes of the stream up to the end of this record and its delimiter: where the next record starts. */
  bytes: number;
}

/**
 * The records of a stored CSV file, one at a time, as csv-parse reads them from the
 * stream. A malformed file (an unclosed quote, say) is a 422 naming the line. A stream that
 * starts within the file (at a record's start, `bom: false`) reads on from there. Leaving
 * the loop early stops the reading.
 */
export async function* csvRecords(stream: ReadableStream<Uint8Array>, delimiter: Delimiter, { bom = true } = {}): AsyncGenerator<CsvRecord> {
  // A record is held whole while it is read: an unclosed quote would otherwise hold the
  // rest of the file. Past MAX_RECORD_CHARS the parser stops with CSV_MAX_RECORD_SIZE.
  const parser = parse({ bom, delimiter, relax_column_count: true, skip_empty_lines: true, info: true, max_record_size: MAX_RECORD_CHARS });
  const reader = stream.getReader();
  let stopped = false;
  // Waits until the parser wants more, or is gone (the loop below was left early).
  const wanted = () =>
    new Promise<void>((resolve) => {
      const go = () => {
        parser.off("drain", go);
        parser.off("close", go);
        resolve();
      };
      parser.on("drain", go);
      parser.on("close", go);
    });
  let lastLine = 0;
  const feeding = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || stopped) break;
        if (!parser.write(Buffer.from(value.buffer, value.byteOffset, value.byteLength))) await wanted();
        if (stopped) break;
      }
      if (!stopped) parser.end();
    } catch (err) {
      parser.destroy(err as Error);
    }
  })();
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number; bytes: number } }>) {
      if (item.record.length > MAX_CELLS) throw refuseFile(`The row on line ${item.info.lines} has ${item.record.length} cells; a row may have at most ${MAX_CELLS}.`);
      lastLine = item.info.lines;
      yield { cells: item.record, line: item.info.lines, bytes: item.info.bytes };
    }
  } catch (err) {
    const csv = err as CsvError & { lines?: number };
    if (csv.code === "CSV_MAX_RECORD_SIZE") {
      // csv-parse reports where it stopped; the record started right after the last one read.
      throw refuseFile(`The record that starts on line ${lastLine + 1} is longer than 1 MiB (an unclosed quote?): the file is not valid CSV there.`);
    }
    if (typeof csv.code === "string" && csv.code.startsWith("CSV_")) throw refuseFile(`The file is not valid CSV near line ${String(csv.lines ?? "?")}: ${csv.message}`);
    throw err;
  } finally {
    stopped = true;
    parser.destroy();
    await reader.cancel().catch(() => {});
    await feeding;
  }
}

/** Bytes of a stored file one read takes (the last may be shorter). */
const READ_BYTES = 1024 * 1024;

/**
 * A stored file as a stream read in ranges of READ_BYTES from byte `from`, or null when it is gone. Few,
 * large reads: an invocation's memory was seen to grow with the number of its reads
 * (docs/benchmarks.md), and a body streamed whole arrives in many small chunks.
 */
export async function storedFile(bucket: R2Bucket, key: string, from = 0): Promise<ReadableStream<Uint8Array> | null> {
  const head = await bucket.head(key);
  if (!head) return null;
  const size = head.size;
  let offset = from;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (offset >= size) return controller.close();
      const part = await bucket.get(key, { range: { offset, length: Math.min(READ_BYTES, size - offset) } });
      if (!part) return controller.error(new Error(`${key} went while it was read`));
      const bytes = new Uint8Array(await part.arrayBuffer());
      offset += bytes.byteLength;
      controller.enqueue(bytes);
    },
  });
}

/** The most columns a file may have, and the longest header (a mapping names each header, up to 256 characters). */
export const MAX_COLUMNS = 500;
export const MAX_HEADER = 256;

/** A header row as an import keeps it, or a 422 when it names no column, or more than it could map. */
function headerCells(cells: string[]): string[] {
  const headers = cells.map((h) => h.trim());
  const refuse = (message: string) => AppError.validation([{ path: "(body)", message }]);
  if (!headers.length || headers.every((h) => h === "")) throw refuse("The first row must name the columns.");
  if (headers.length > MAX_COLUMNS) throw refuse(`The first row names ${headers.length} columns; a file may have at most ${MAX_COLUMNS}.`);
  const long = headers.findIndex((h) => h.length > MAX_HEADER);
  if (long >= 0) throw refuse(`Column ${long + 1}'s name is ${headers[long]!.length} characters long; at most ${MAX_HEADER}.`);
  return headers;
}

/** A cell holding NUL: the file is binary, not text. */
export function binaryCells(cells: string[]): AppError | null {
  return cells.some((c) => c.includes("\u0000")) ? AppError.validation([{ path: "(body)", message: "This is not a text file (it holds NUL bytes): upload a CSV file." }]) : null;
}

/**
 * The header row and the number of data rows of a stored file, read as a stream; a file
 * without a header row is a 422.
 */
export async function describeCsv(bucket: R2Bucket, key: string, delimiter: Delimiter): Promise<{ headers: string[]; rows: number }> {
  const body = await storedFile(bucket, key);
  if (!body) throw AppError.validation([{ path: "(body)", message: "The file is gone." }]);
  let headers: string[] | null = null;
  let rows = 0;
  for await (const { cells } of csvRecords(body, delimiter)) {
    const binary = binaryCells(cells);
    if (binary) throw binary;
    if (!headers) headers = headerCells(cells);
    else rows++;
  }
  return { headers: headerCells(headers ?? []), rows };
}

/** The header row of a stored file and the byte where its data rows start; only the first record is read. */
export async function storedHeader(bucket: R2Bucket, key: string, delimiter: Delimiter): Promise<{ headers: string[]; dataOffset: number }> {
  const body = await storedFile(bucket, key);
  if (!body) throw AppError.validation([{ path: "(body)", message: "The file is gone." }]);
  for await (const { cells, bytes } of csvRecords(body, delimiter)) {
    const binary = binaryCells(cells);
    if (binary) throw binary;
    return { headers: headerCells(cells), dataOffset: bytes };
  }
  return { headers: headerCells([]), dataOffset: 0 };
}

/** The delimiter of a stored file, from its first 64 KiB. */
export async function storedDelimiter(bucket: R2Bucket, key: string): Promise<Delimiter> {
  const head = await bucket.get(key, { range: { offset: 0, length: 64 * 1024 } });
  return sniffDelimiter(head ? new TextDecoder().decode(await head.arrayBuffer()) : "");
}

/** A header as the suggestions compare it: lower case, letters and digits only. */
function normal(header: string): string {
  return header.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** Header names people use for each directory field, as `normal` leaves them. */
const SYNONYMS: Record<string, string[]> = {
  id: ["id", "userid", "employeeid", "personid", "externalid", "staffid", "uid"],
  email: ["email", "emailaddress", "mail", "emailid", "workemail", "primaryemail", "userprincipalname", "upn"],
  firstName: ["firstname", "givenname", "forename", "first"],
  lastName: ["lastname", "surname", "familyname", "last"],
  status: ["status", "accountstatus", "userstatus", "employeestatus"],
  role: ["role", "userrole"],
  department: ["department", "dept", "division"],
  designation: ["designation", "jobtitle", "title", "position"],
  phone: ["phone", "phonenumber", "telephone", "officephone", "telephonenumber"],
  mobile: ["mobile", "mobilephone", "mobilenumber", "cell", "cellphone"],
  workPhone: ["workphone", "businessphone", "workphonenumber"],
  extension: ["extension", "ext"],
  workLocation: ["worklocation", "location", "office", "officelocation"],
  seatingLocation: ["seatinglocation", "seat", "desk"],
  dateOfBirth: ["dateofbirth", "dob", "birthdate", "birthday"],
  nickname: ["nickname", "preferredname"],
  gender: ["gender", "sex"],
  reportingTo: ["reportingto", "reportsto", "manager", "manageremail"],
};
const FIELD_OF = new Map(Object.entries(SYNONYMS).flatMap(([field, names]) => names.map((n) => [n, field] as const)));

/** `attributes.<name>` for a header that names no field: dots and spaces become `_`, at most 64 characters. */
export function attributeOf(header: string): string | null {
  const name = header.trim().replace(/[.\s]+/g, "_").slice(0, 64);
  return name && !isUnsafeKey(name) ? `attributes.${name}` : null;
}

/**
 * The mapping suggested for a header row: each header matched to a user field ignoring
 * case, spaces and punctuation ("E-mail", "Email Address", "Surname", "Job Title"); a
 * header that names none maps to `attributes.<name>`. A field is suggested once (the first
 * header that names it); a later one goes to attributes.
 */
export function suggestMapping(headers: string[]): Record<string, string | null> {
  const taken = new Set<string>();
  const out: Record<string, string | null> = {};
  for (const header of headers) {
    const field = FIELD_OF.get(normal(header));
    if (field && !taken.has(field)) {
      taken.add(field);
      out[header] = field;
    } else out[header] = attributeOf(header);
  }
  return out;
}

/** The user fields a column may map to. */
export const IMPORT_FIELDS = ["id", "email", "firstName", "lastName", "status", ...PROFILE_FIELDS] as const;
