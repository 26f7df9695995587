import * as v from "valibot";
import type { DirectoryUserRow } from "../db/schema";
import { PROFILE_FIELDS, type UserInput } from "../lib/user-fields";
import { iso } from "../lib/time";

/** What is stored in the `profile` JSON column, parsed (never cast) when read. */
const StoredProfile = v.object({
  ...Object.fromEntries(PROFILE_FIELDS.map((f) => [f, v.optional(v.nullable(v.string()))])),
  attributes: v.optional(v.record(v.string(), v.string())),
});
export type StoredProfile = Partial<Record<(typeof PROFILE_FIELDS)[number], string | null>> & {
  attributes?: Record<string, string>;
};

/** The profile part of an input, as stored. */
export function profileOf(input: Partial<UserInput>): StoredProfile {
  const out: StoredProfile = {};
  for (const f of PROFILE_FIELDS) {
    const value = input[f];
    if (value !== undefined && value !== null && value !== "") out[f] = value;
  }
  if (input.attributes && Object.keys(input.attributes).length) out.attributes = input.attributes;
  return out;
}

/** Parses the `profile` column; a row that fails is a bug, reported loudly. */
export function parseProfile(json: string): StoredProfile {
  return v.parse(StoredProfile, JSON.parse(json)) as StoredProfile;
}

/** A directory user as the API answers it. */
export function userView(row: DirectoryUserRow) {
  const profile = parseProfile(row.profile);
  return {
    id: row.id,
    email: row.email,
    firstName: row.firstName,
    lastName: row.lastName,
    status: row.status,
    ...Object.fromEntries(PROFILE_FIELDS.map((f) => [f, profile[f] ?? null])),
    attributes: profile.attributes ?? {},
    updatedAt: iso(row.sourceUpdatedAt),
    version: row.version,
    createdAt: iso(row.createdAt),
  };
}
