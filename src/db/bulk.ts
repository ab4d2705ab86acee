import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/**
 * One INSERT of many rows (at least one), built ahead of running it. Rows are keyed by the table's
 * property names, as for `insert().values()`; `bytea` values are given as base64 text and decoded by
 * the database. Columns missing from the first row take their JavaScript default (`$defaultFn`, one
 * bound value for all rows) or their SQL default.
 *
 * Small rows travel as one JSON parameter (json_to_recordset): PostgreSQL parses a JSON array far
 * faster than thousands of bound values. Rows with binary content are few and large: bound values, so
 * that the content is not scanned as JSON text twice.
 */
export function insertRows(table: PgTable, rows: Record<string, unknown>[]): SQL {
  const first = rows[0] ?? {};
  const columns = Object.entries(getTableColumns(table))
    .filter(([key, column]) => key in first || column.defaultFn)
    .map(([key, column]) => ({ key, name: column.name, type: column.getSQLType(), given: key in first, fallback: key in first ? undefined : column.defaultFn!() }));
  const value = (row: Record<string, unknown>, c: (typeof columns)[number]) => {
    const v = row[c.key] === undefined ? c.fallback : row[c.key];
    return v instanceof Date ? v.toISOString() : v;
  };
  const names = sql.join(columns.map((c) => sql.identifier(c.name)), sql`, `);
  const read = (c: (typeof columns)[number], from: SQL) => (c.type === 'bytea' ? sql`decode(${from}, 'base64')` : sql`${from}::${sql.raw(c.type)}`);
  if (columns.some((c) => c.type === 'bytea')) {
    const tuples = rows.map((row) => sql`(${sql.join(columns.map((c) => read(c, sql`${value(row, c)}`)), sql`, `)})`);
    return sql`insert into ${table} (${names}) values ${sql.join(tuples, sql`, `)}`;
  }
  // The rows as they are, keyed by property names: no copy of each row with column names.
  const values = sql.join(columns.map((c) => (c.given ? sql`r.${sql.identifier(c.key)}` : read(c, sql`${value({}, c)}`))), sql`, `);
  const record = sql.join(columns.filter((c) => c.given).map((c) => sql`${sql.identifier(c.key)} ${sql.raw(c.type)}`), sql`, `);
  return sql`insert into ${table} (${names}) select ${values} from json_to_recordset(${JSON.stringify(rows)}::json) as r(${record})`;
}
