import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

function build(d1: D1Database) {
  return drizzle(d1, { schema });
}

export type Db = ReturnType<typeof build>;

// drizzle builds its schema metadata when constructed; one client per binding object
// (per isolate) keeps that off every request's path.
const clients = new WeakMap<D1Database, Db>();

/** The drizzle client over the D1 binding. */
export function createDb(d1: D1Database): Db {
  let db = clients.get(d1);
  if (!db) {
    db = build(d1);
    clients.set(d1, db);
  }
  return db;
}

/**
 * Any number of values as one bound parameter, for `column in ${jsonValues(ids)}`: D1
 * takes at most 100 parameters a statement, so a list is sent as one JSON array and read
 * back with json_each.
 */
export function jsonValues(values: string[]) {
  return sql`(select value from json_each(${JSON.stringify(values)}))`;
}
