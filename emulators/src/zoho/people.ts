import { Hono, type Context } from "hono";
import { world, worldNow } from "../state";
import { checkZohoToken } from "./auth";

// Zoho People bulk records (zoho.com/people/api/bulk-records.html).

const MAX_LIMIT = 200;

export const people = new Hono();

function peopleError(c: Context, code: number, message: string) {
  return c.json({ response: { errors: { code, message }, message: "Error occurred", status: 1 } }, 200);
}

people.get("/people/api/forms/:form/getRecords", (c) => {
  const auth = checkZohoToken(c, "ZOHOPEOPLE.forms.READ");
  if (auth.error) return auth.error;
  // The throttle: 400 requests a minute, then the account is locked for 5 minutes (7209).
  const throttle = world.zoho.peopleThrottle;
  const now = worldNow();
  if (throttle.lockedUntil > now) {
    throttle.locks++;
    return peopleError(c, 7209, "Your account has been locked for exceeding the API limit. Try again later.");
  }
  throttle.calls = throttle.calls.filter((at) => at > now - 60_000);
  if (throttle.calls.length >= throttle.perMinute) {
    throttle.lockedUntil = now + throttle.lockMs;
    throttle.locks++;
    return peopleError(c, 7209, "Your account has been locked for exceeding the API limit. Try again later.");
  }
  throttle.calls.push(now);
  if (c.req.param("form") !== "employee") return peopleError(c, 7011, "Invalid form name");
  const sIndex = Math.max(1, Number(c.req.query("sIndex") ?? 1) || 1);
  const limit = Number(c.req.query("limit") ?? MAX_LIMIT) || MAX_LIMIT;
  if (limit > MAX_LIMIT) return peopleError(c, 7021, `Maximum limit to fetch records is ${MAX_LIMIT}`);
  let rows = world.zoho.people;
  const modified = c.req.query("modifiedtime");
  if (modified) rows = rows.filter((e) => e.modifiedTime > Number(modified));
  const column = c.req.query("SearchColumn");
  if (column) {
    const value = c.req.query("SearchValue") ?? "";
    const field = column === "EMPLOYEEID" ? "EmployeeID" : column === "EMPLOYEEMAILALIAS" ? "EmailID" : null;
    if (!field || !value) return peopleError(c, 7042, "Invalid search value");
    rows = rows.filter((e) => e.fields[field]?.toLowerCase() === value.toLowerCase());
  }
  const page = rows.slice(sIndex - 1, sIndex - 1 + limit);
  throttle.served.push({ query: c.req.query(), returned: page.length, at: now });
  // People answers a page with nothing on it as an error, not as an empty list
  // (zoho.com/people/api/error-codes.html: 7024 "No records found").
  if (page.length === 0) return peopleError(c, 7024, "No records found");
  return c.json({
    response: {
      result: page.map((e) => ({ [e.recordId]: [{ ...e.fields, ModifiedTime: String(e.modifiedTime) }] })),
      message: "Data fetched successfully",
      status: 0,
    },
  });
});
