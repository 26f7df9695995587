/**
 * The directory user's shape (API.md), as far as every layer needs it: the engine maps
 * these fields, the integration config names them, the directory stores them.
 */
/** The profile fields of API.md besides id, e-mail, names and status. */
export const PROFILE_FIELDS = [
  "role",
  "department",
  "designation",
  "phone",
  "mobile",
  "workPhone",
  "extension",
  "workLocation",
  "seatingLocation",
  "dateOfBirth",
  "nickname",
  "gender",
  "reportingTo",
] as const;
