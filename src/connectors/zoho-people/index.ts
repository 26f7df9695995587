import type { MappingEntry } from "../../lib/config";
import type { Connector } from "../contract";
import { zohoSettingsProblems } from "../zoho/datacenters";
import { zohoOAuth } from "../zoho/oauth";

/** Zoho People → directory: the fields of Zoho's HR → Connect sync (seeds 001). */
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

/**
 * Zoho People: a source (employee records). Declared so that an integration can be
 * created and connected; its pull is not written yet.
 */
export const zohoPeople = {
  facts: {
    id: "zoho-people",
    name: "Zoho People",
    brand: "Zoho People",
    direction: "pull",
    objects: ["employee"],
    mapping: MAPPING,
    // forms/employee/getRecords: at most 200 records a call; 400 requests a minute.
    limits: { writeBatch: 1, lookupBatch: 1, listPage: 200, requestsPerMinute: 400 },
  },
  config: {
    entries: {},
    defaults: { object: "employee", mapping: MAPPING, scope: { exclude: [] } },
    scopes: () => ["ZOHOPEOPLE.forms.READ"],
    missing: () => null,
    problems: () => [],
  },
  oauth: zohoOAuth,
  settingsProblems: zohoSettingsProblems,
} satisfies Connector;
