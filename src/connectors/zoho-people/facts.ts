import type { MappingEntry } from "../../lib/config";
import type { ConnectorFacts } from "../contract";
import { PEOPLE_PAGE } from "./pull";

/**
 * Zoho People → directory: the fields of Zoho's HR → Connect sync (seeds 001). A source
 * maps by the connector (./pull.ts); this list says what reaches the directory.
 */
const MAPPING: MappingEntry[] = [
  { to: "email", from: "email", required: true },
  { to: "firstName", from: "firstName" },
  { to: "lastName", from: "lastName" },
  { to: "department", from: "department" },
  { to: "designation", from: "designation" },
  { to: "reportingTo", from: "reportingTo" },
  { to: "workLocation", from: "workLocation" },
  { to: "seatingLocation", from: "seatingLocation" },
  { to: "mobile", from: "mobile" },
  { to: "dateOfBirth", from: "dateOfBirth" },
  { to: "extension", from: "extension" },
  { to: "workPhone", from: "workPhone" },
  { to: "nickname", from: "nickname" },
  { to: "gender", from: "gender" },
];

/** Zoho People's documented ceiling: 400 requests a minute, then a 5-minute lock. */
export const PEOPLE_PER_MINUTE = 400;

export const zohoPeopleFacts = {
  id: "zoho-people",
  name: "Zoho People",
  brand: "Zoho People",
  direction: "pull",
  objects: ["employee"],
  mapping: MAPPING,
  // forms/employee/getRecords: at most 200 records a call; 400 requests a minute.
  limits: { writeBatch: 1, lookupBatch: 1, listPage: PEOPLE_PAGE, requestsPerMinute: PEOPLE_PER_MINUTE, dailyAllowance: "Zoho People allows 250 a user licence, 500 on Enterprise" },
} satisfies ConnectorFacts;
