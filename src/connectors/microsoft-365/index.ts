import type { Connector } from "../contract";
import { microsoft365Config } from "./config";
import { microsoft365Facts } from "./facts";
import { microsoftOAuth } from "./oauth";

/**
 * Microsoft 365: a source (users) and a target (contacts, events). Declared so that an
 * integration can be created and connected; its pull and push are not written yet.
 */
export const microsoft365 = {
  facts: microsoft365Facts,
  config: microsoft365Config,
  oauth: microsoftOAuth,
} satisfies Connector;
