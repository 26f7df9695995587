import type { MappingEntry } from "../../lib/config";
import type { ConnectorFacts } from "../contract";

const MAPPING: MappingEntry[] = [
  { to: "mail", from: "email", required: true },
  { to: "givenName", from: "firstName" },
  { to: "surname", from: "lastName" },
  { to: "department", from: "department" },
  { to: "jobTitle", from: "designation" },
  { to: "mobilePhone", from: "mobile" },
  { to: "officeLocation", from: "workLocation" },
];

export const microsoft365Facts = {
  id: "microsoft-365",
  name: "Microsoft 365",
  brand: "Microsoft 365",
  direction: "two-way",
  objects: ["users", "contacts", "events"],
  mapping: MAPPING,
  // Outlook: 10,000 requests per 10 minutes per app and mailbox, 4 at once. Writes go
  // one record a call until the connector is written.
  limits: { writeBatch: 1, lookupBatch: 1, listPage: 100, requestsPerMinute: 1000, concurrency: 4 },
} satisfies ConnectorFacts;
