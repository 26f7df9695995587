import { getTableColumns, is, Param, Placeholder, type Table } from "drizzle-orm";

/**
 * A statement whose SQL drizzle wrote once (from the schema, with `sql.placeholder`s),
 * bound per call to plain values. For hot paths: building a drizzle query costs far more
 * than running it on D1 (a webhook spent about a millisecond of CPU in query building).
 */
export interface Compiled<V extends string> {
  /** The statement with these values bound, ready for `D1Database.batch`. */
  bind(d1: D1Database, values: Record<V, unknown>): D1PreparedStatement;
}

/** Compiles `query.toSQL()` once: each parameter is either a constant or a named placeholder (with its column's encoder). */
export function compile<V extends string>(query: { toSQL(): { sql: string; params: unknown[] } }): Compiled<V> {
  const { sql, params } = query.toSQL();
  const slots = params.map((p): ((values: Record<string, unknown>) => unknown) => {
    if (is(p, Placeholder)) return (values) => need(values, p.name);
    if (is(p, Param) && is(p.value, Placeholder)) {
      const { name } = p.value;
      return (values) => p.encoder.mapToDriverValue(need(values, name));
    }
    return () => p;
  });
  return { bind: (d1, values) => d1.prepare(sql).bind(...slots.map((slot) => slot(values))) };
}

function need(values: Record<string, unknown>, name: string): unknown {
  const value = values[name];
  if (value === undefined) throw new Error(`No value for placeholder "${name}".`);
  return value;
}

/** Maps a row D1 returned (column names) to the table's row type (property names). */
export function rowMapper<T extends Table>(table: T): (raw: Record<string, unknown>) => T["$inferSelect"] {
  const columns = Object.entries(getTableColumns(table)).map(([key, column]) => [key, column.name, column] as const);
  return (raw) => {
    const row: Record<string, unknown> = {};
    for (const [key, name, column] of columns) {
      const value = raw[name];
      row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
    }
    return row as T["$inferSelect"];
  };
}
