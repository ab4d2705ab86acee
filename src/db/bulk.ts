import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/**
 * One INSERT of many rows, built ahead of running it. Rows are keyed by the table's property names, as
 * for `insert().values()`; `bytea` values are given as base64 text and decoded by the database. Columns
 * missing from the first row take their JavaScript default (`$defaultFn`) or their SQL default.
 *
 * Small rows travel as one JSON parameter (json_to_recordset): PostgreSQL parses a JSON array far faster
 * than thousands of bound values. Rows with binary content are few and large: bound values, so that the
 * content is not scanned as JSON text twice.
 */
export function insertRows(table: PgTable, rows: Record<string, unknown>[]): SQL {
  const first = rows[0] ?? {};
  const columns = Object.entries(getTableColumns(table))
    .filter(([key, column]) => key in first || column.defaultFn)
    .map(([key, column]) => ({ key, name: column.name, type: column.getSQLType(), fallback: key in first ? undefined : column.defaultFn!() }));
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
  const json = JSON.stringify(rows.map((row) => Object.fromEntries(columns.map((c) => [c.name, value(row, c)]))));
  const record = sql.join(columns.map((c) => sql`${sql.identifier(c.name)} ${sql.raw(c.type)}`), sql`, `);
  return sql`insert into ${table} (${names}) select ${names} from json_to_recordset(${json}::json) as r(${record})`;
}
