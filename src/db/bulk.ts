import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/**
 * One INSERT of many rows, read from a record `r` with the rows' `fields` (the table's property
 * names). Each column takes, in order: its expression in `values` (SQL over `r` and the `joins`),
 * the row's field (`bytea` ones given as base64 text), its JavaScript default (`$defaultFn`, one
 * bound value for all rows), or else its SQL default.
 *
 * Rows given as the text of a JSON array (as a backup holds them: not parsed here) are read by
 * PostgreSQL's `json_to_recordset`, far faster than thousands of bound values or than JavaScript
 * parsing and serialising them again. Rows with binary content are few and large: give them as
 * objects, sent as bound values, so that their content is not scanned as JSON text.
 */
export function insertRows(
  table: PgTable,
  rows: string | Record<string, unknown>[],
  fields: string[],
  values: Record<string, SQL> = {},
  joins: SQL = sql``,
): SQL {
  const given = new Set(fields);
  const columns = Object.entries(getTableColumns(table))
    .filter(([key, column]) => key in values || given.has(key) || column.defaultFn)
    .map(([key, column]) => ({ key, name: column.name, type: column.getSQLType(), defaultFn: column.defaultFn }));
  const read = columns.filter((c) => given.has(c.key));
  const typeOf = (c: (typeof columns)[number]) => sql.raw(c.type === 'bytea' ? 'text' : c.type);
  const value = (c: (typeof columns)[number]): SQL => {
    if (c.key in values) return values[c.key]!;
    const field = sql`r.${sql.identifier(c.key)}`;
    if (given.has(c.key)) return c.type === 'bytea' ? sql`decode(${field}, 'base64')` : field;
    const fallback = c.defaultFn!();
    return sql`${fallback instanceof Date ? fallback.toISOString() : fallback}::${sql.raw(c.type)}`;
  };
  const source =
    typeof rows === 'string'
      ? sql`json_to_recordset(${rows}::json) as r(${sql.join(
          read.map((c) => sql`${sql.identifier(c.key)} ${typeOf(c)}`),
          sql`, `,
        )})`
      : sql`(values ${sql.join(
          rows.map(
            (row) =>
              sql`(${sql.join(
                read.map((c) => sql`${row[c.key] ?? null}::${typeOf(c)}`),
                sql`, `,
              )})`,
          ),
          sql`, `,
        )}) as r(${sql.join(
          read.map((c) => sql.identifier(c.key)),
          sql`, `,
        )})`;
  const names = sql.join(
    columns.map((c) => sql.identifier(c.name)),
    sql`, `,
  );
  return sql`insert into ${table} (${names}) select ${sql.join(columns.map(value), sql`, `)} from ${source} ${joins}`;
}
