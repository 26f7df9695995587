import type { MappingEntry } from "../../lib/config";
import type { Connector } from "../contract";
import { microsoftOAuth } from "./oauth";

const MAPPING: MappingEntry[] = [
  { to: "mail", from: "email", required: true },
  { to: "givenName", from: "firstName" },
  { to: "surname", from: "lastName" },
  { to: "department", from: "department" },
  { to: "jobTitle", from: "designation" },
  { to: "mobilePhone", from: "mobile" },
  { to: "officeLocation", from: "workLocation" },
];

/**
 * Microsoft 365: a source (users) and a target (contacts, events). Declared so that an
 * integration can be created and connected; its pull and push are not written yet.
 */
export const microsoft365 = {
  facts: {
    id: "microsoft-365",
    name: "Microsoft 365",
    brand: "Microsoft 365",
    direction: "two-way",
    objects: ["users", "contacts", "events"],
    mapping: MAPPING,
    // Outlook: 10,000 requests per 10 minutes per app and mailbox, 4 at once. Writes go
    // one record a call until the connector is written.
    limits: { writeBatch: 1, lookupBatch: 1, listPage: 100, requestsPerMinute: 1000, concurrency: 4 },
  },
  config: {
    entries: {},
    defaults: { object: "users", mapping: MAPPING, scope: { exclude: [] } },
    scopes: (config) => [
      "openid",
      "offline_access",
      "User.Read.All",
      ...(config.object === "contacts" ? ["Contacts.ReadWrite"] : config.object === "events" ? ["Calendars.ReadWrite"] : []),
    ],
    missing: () => [],
    problems: () => [],
  },
  oauth: microsoftOAuth,
} satisfies Connector;
