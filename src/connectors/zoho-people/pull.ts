import { format, isValid, parse } from "date-fns";
import { ProviderError } from "../errors";
import type { ConnectorContext, PulledRecord, PullConnector } from "../contract";
import { zohoApi, zohoProductHost } from "../zoho/client";

/** getRecords returns at most 200 records a call (error 7021 above). */
export const PEOPLE_PAGE = 200;
/**
 * Zoho People locks an account for 5 minutes after 400 requests in a minute (error 7209).
 * The hub cannot tell when a lock began (another app of the account may have caused it),
 * so a locked pull looks again every 30 seconds: one call each, at most ten a lock.
 */
export const LOCK_PROBE_MS = 30_000;
/** getRecords on a page past the last record: an error, not an empty list (zoho.com/people/api/error-codes.html). */
const NO_RECORDS = 7024;

/** The date formats a Zoho People organisation can choose (Settings → Date format). */
export const PEOPLE_DATE_FORMATS = ["dd-MMM-yyyy", "dd/MM/yyyy", "MM/dd/yyyy", "yyyy-MM-dd", "dd-MM-yyyy", "MM-dd-yyyy", "dd.MM.yyyy", "yyyy/MM/dd", "MMM dd, yyyy"] as const;

type Employee = Record<string, string | undefined>;

interface GetRecordsAnswer {
  response?: {
    status?: number;
    message?: string;
    result?: Record<string, Employee[]>[];
    errors?: { code?: number; message?: string };
  };
}

/**
 * A date as the organisation writes it (one format per integration, never guessed per
 * row) → YYYY-MM-DD; null when the value does not fit that format.
 */
export function peopleDate(value: string, pattern: string): string | null {
  const d = parse(value.trim(), pattern, new Date(Date.UTC(2000, 0, 1)));
  return isValid(d) ? format(d, "yyyy-MM-dd") : null;
}

/** One employee → the directory's fields (seeds 001: the HR → Connect profile fields). */
export function toPulled(recordId: string, e: Employee, dateFormat: string): PulledRecord | null {
  const email = e.EmailID?.trim();
  const employeeId = e.EmployeeID?.trim();
  if (!email || !employeeId) return null;
  const text = (value: string | undefined) => (value && value.trim() !== "" ? value.trim() : null);
  const problems: string[] = [];
  let dateOfBirth: string | null = null;
  const born = text(e.Date_of_birth);
  if (born) {
    dateOfBirth = peopleDate(born, dateFormat);
    if (!dateOfBirth) problems.push(`Date_of_birth ${born} is not in the integration's date format ${dateFormat}; left out.`);
  }
  return {
    remoteId: recordId,
    personId: employeeId,
    active: (e.Employeestatus ?? "Active") === "Active",
    modifiedAt: Number(e.ModifiedTime) || 0,
    user: {
      email,
      firstName: text(e.FirstName),
      lastName: text(e.LastName),
      department: text(e.Department),
      designation: text(e.Designation),
      // Reporting-to by e-mail: the manager's address, which every system can match.
      reportingTo: text(e["Reporting_To.MailID"]),
      workLocation: text(e.Work_location),
      seatingLocation: text(e.Seating_Location),
      mobile: text(e.Mobile),
      dateOfBirth,
      extension: text(e.Extension),
      workPhone: text(e.Work_phone),
      nickname: text(e.Nick_Name),
      gender: text(e.Gender),
    },
    problems,
  };
}

/** Zoho People's errors: 7209 (locked for exceeding the throttle) waits the lock out; the rest are the request's. */
function peopleError(answer: GetRecordsAnswer): ProviderError {
  const code = answer.response?.errors?.code;
  const message = answer.response?.errors?.message ?? answer.response?.message ?? "no message";
  if (code === 7209) return new ProviderError("retryAfter", `Zoho People locked the account for exceeding its throttle (7209: ${message}); trying again in ${LOCK_PROBE_MS / 1000} s.`, LOCK_PROBE_MS);
  return new ProviderError("request", `Zoho People refused getRecords (${code ?? "?"}: ${message}).`);
}

export const zohoPeoplePull: PullConnector = {
  async pull(ctx: ConnectorContext, input) {
    const dateFormat = typeof ctx.config.dateFormat === "string" ? ctx.config.dateFormat : PEOPLE_DATE_FORMATS[0];
    const query = new URLSearchParams({ sIndex: String(input.offset + 1), limit: String(PEOPLE_PAGE) });
    if (input.since !== null) query.set("modifiedtime", String(input.since));
    await ctx.spendCall();
    const res = await zohoApi(ctx, "GET", `/people/api/forms/employee/getRecords?${query}`, undefined, zohoProductHost(ctx, "people"));
    const answer = res.body as GetRecordsAnswer;
    // People answers a page with nothing on it as error 7024 "No records found": the end.
    if (answer.response?.errors?.code === NO_RECORDS) return { records: [], more: false, read: 0 };
    if (answer.response?.status !== 0) throw peopleError(answer);
    const result = answer.response.result ?? [];
    const records: PulledRecord[] = [];
    for (const entry of result) {
      for (const [recordId, rows] of Object.entries(entry)) {
        const pulled = rows[0] ? toPulled(recordId, rows[0], dateFormat) : null;
        if (pulled) records.push(pulled);
      }
    }
    return { records, more: result.length === PEOPLE_PAGE, read: result.length };
  },
};
