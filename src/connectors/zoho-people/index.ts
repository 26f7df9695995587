import * as v from "valibot";
import type { MappingEntry } from "../../lib/config";
import type { Connector } from "../contract";
import { zohoSettingsProblems } from "../zoho/datacenters";
import { zohoOAuth } from "../zoho/oauth";
import { PEOPLE_DATE_FORMATS, PEOPLE_PAGE, zohoPeoplePull } from "./pull";

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
const PEOPLE_PER_MINUTE = 400;

/** Zoho People: a source. Employees are pulled on a schedule into the directory. */
export const zohoPeople = {
  facts: {
    id: "zoho-people",
    name: "Zoho People",
    brand: "Zoho People",
    direction: "pull",
    objects: ["employee"],
    mapping: MAPPING,
    // forms/employee/getRecords: at most 200 records a call; 400 requests a minute.
    limits: { writeBatch: 1, lookupBatch: 1, listPage: PEOPLE_PAGE, requestsPerMinute: PEOPLE_PER_MINUTE, dailyAllowance: "Zoho People allows 250 a user licence, 500 on Enterprise" },
  },
  config: {
    entries: {
      /** The organisation's date format (Zoho People → Settings), one for every record. */
      dateFormat: v.optional(v.picklist(PEOPLE_DATE_FORMATS, `Expected one of ${PEOPLE_DATE_FORMATS.join(", ")}.`)),
      /**
       * The integration's share of the account's limits: other apps may call People with
       * the same account, so an admin can leave them room.
       */
      throttle: v.optional(
        v.strictObject({
          requestsPerMinute: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(PEOPLE_PER_MINUTE, `Zoho People allows at most ${PEOPLE_PER_MINUTE} requests a minute.`)),
          callsPerDay: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1)))),
        }),
      ),
    },
    defaults: {
      object: "employee",
      mapping: MAPPING,
      scope: { exclude: [] },
      dateFormat: "dd-MMM-yyyy",
      // The daily budget is 250 calls per user licence (500 on Enterprise), capped by plan:
      // the hub cannot read it, so it counts and shows the calls and stops only where told.
      throttle: { requestsPerMinute: PEOPLE_PER_MINUTE, callsPerDay: null },
      schedule: { resyncMinutes: 15, reconcile: "off", pullMinutes: 15, fullPull: "daily" },
    },
    scopes: () => ["ZOHOPEOPLE.forms.READ"],
    missing: () => [],
    problems: () => [],
  },
  oauth: zohoOAuth,
  settingsProblems: zohoSettingsProblems,
  pull: zohoPeoplePull,
} satisfies Connector;
