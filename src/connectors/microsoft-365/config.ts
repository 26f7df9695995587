import type { ConnectorConfig } from "../contract";
import { microsoft365Facts } from "./facts";

/** A Microsoft 365 integration's config: the scopes its object needs. */
export const microsoft365Config = {
  entries: {},
  defaults: { object: "users", mapping: microsoft365Facts.mapping, scope: { exclude: [] } },
  scopes: (config) => [
    "openid",
    "offline_access",
    "User.Read.All",
    ...(config.object === "contacts" ? ["Contacts.ReadWrite"] : config.object === "events" ? ["Calendars.ReadWrite"] : []),
  ],
  missing: () => [],
  problems: () => [],
} satisfies ConnectorConfig;
