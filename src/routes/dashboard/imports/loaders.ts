import { getLocation, getSavedMapping, listImports } from "../../../db/imports.repo";
import type { Dash } from "../session";

/** What the pages of this folder show, loaded here: the views (`views.tsx`) get it as props and query nothing. */

export async function loadImportsPage({ c }: { c: Dash; problem?: string | undefined }) {
  const db = c.get("db");
  const tenant = c.get("tenant");
  const [recent, saved, location] = await Promise.all([listImports(db, tenant.id, null, 20), getSavedMapping(db, tenant.id), getLocation(db, tenant.id)]);
  return { recent, saved, location };
}

export type ImportsPageData = NonNullable<Awaited<ReturnType<typeof loadImportsPage>>>;
