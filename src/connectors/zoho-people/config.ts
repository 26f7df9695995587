import * as v from "valibot";
import type { ConnectorConfig } from "../contract";
import { PEOPLE_PER_MINUTE, zohoPeopleFacts } from "./facts";
import { PEOPLE_DATE_FORMATS } from "./pull";

/** A People integration's config: the organisation's date format, and the share of People's limits the hub may use. */
export const zohoPeopleConfig = {
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
    mapping: zohoPeopleFacts.mapping,
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
} satisfies ConnectorConfig;
