import { getTableColumns, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Database } from './client.js';

type Executor = Pick<Database, 'execute'>;

/**
 * Inserts many rows with one statement and one JSON parameter (json_to_recordset): PostgreSQL parses
 * a JSON array far faster than thousands of bound values. Rows are keyed by the table's property
 * names, as for `insert().values()`; `bytea` values are given as base64 text and decoded by the database.
 * Columns missing from the first row take their JavaScript default (`$defaultFn`) or their SQL default.
 */
export async function insertMany(db: Executor, table: PgTable, rows: Record<string, unknown>[]): Promise<void> {
  if (!rows.length) return;
  const columns = Object.entries(getTableColumns(table)).filter(([key, column]) => key in rows[0]! || column.defaultFn);
  const defaults = Object.fromEntries(columns.filter(([key]) => !(key in rows[0]!)).map(([key, column]) => [key, column.defaultFn!()]));
  const json = JSON.stringify(rows.map((row) => Object.fromEntries(columns.map(([key, column]) => [column.name, row[key] === undefined ? defaults[key] : row[key]]))));
  const binary = (type: string) => type === 'bytea';
  const names = sql.join(columns.map(([, c]) => sql.identifier(c.name)), sql`, `);
  const values = sql.join(columns.map(([, c]) => (binary(c.getSQLType()) ? sql`decode(${sql.identifier(c.name)}, 'base64')` : sql.identifier(c.name))), sql`, `);
  const record = sql.join(columns.map(([, c]) => sql`${sql.identifier(c.name)} ${sql.raw(binary(c.getSQLType()) ? 'text' : c.getSQLType())}`), sql`, `);
  await db.execute(sql`insert into ${table} (${names}) select ${values} from json_to_recordset(${json}::json) as r(${record})`);
}
