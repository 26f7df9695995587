import type { MappingEntry } from "../../lib/config";
import type { ConnectorFacts } from "../contract";

/**
 * Zoho CRM v8 (insert-records.html, COQL-Limitations.html, API-limits.html):
 * - a write takes at most 100 records;
 * - COQL's WHERE takes up to 25 criteria and an `in` up to 100 values, so one query
 *   looks up 2,000 keys as twenty `in` lists joined by `or` (2,000 is also the most rows
 *   a COQL call answers);
 * - a COQL call returns at most 2,000 rows (a lookup that matches more is asked again
 *   in halves; reconciliation lists this many records a call);
 * - API credits are per organisation and rolling day; concurrent calls run from 5 (Free)
 *   to 25 (Ultimate), about 10 for heavy calls (bulk writes, COQL): the ceiling below.
 */
export const ZOHO_CRM_LIMITS = { writeBatch: 100, lookupBatch: 2000, listPage: 2000, concurrency: 10 } as const;

const MAPPING: MappingEntry[] = [
  { to: "Email", from: "email", required: true },
  { to: "First_Name", from: "firstName" },
  { to: "Last_Name", from: "lastName", required: true },
  { to: "Phone", from: "phone" },
  { to: "Mobile", from: "mobile" },
  { to: "Department", from: "department" },
  { to: "Title", from: "designation" },
];

export const zohoCrmFacts: ConnectorFacts = {
  id: "zoho-crm",
  name: "Zoho CRM",
  brand: "Zoho",
  direction: "push",
  objects: ["Contacts", "Leads"],
  mapping: MAPPING,
  limits: ZOHO_CRM_LIMITS,
};
