import { Placeholder, sql } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Database } from './client.js';

/** A transaction: what `db.transaction` hands its callback. Operations that must share one take it. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/** The database or a transaction, limited to the builders a function uses (reads by default). */
export type Queryable<K extends keyof Database = 'select'> = Pick<Database, K>;

type Tables = Database['query'];

/** A config's values that are not plain data (SQL, functions, dates, buffers): such a read is not cached. */
const NOT_PLAIN = Symbol('not plain');

/**
 * The shape of a relational read's config: every value inside a `where` becomes a placeholder (its value
 * goes to `values`), everything else stays as it is. NOT_PLAIN when anything is not plain data.
 */
function withPlaceholders(config: unknown, values: unknown[], inWhere = false): unknown {
  if (config === undefined || config === null) return config;
  if (typeof config === 'string' || typeof config === 'number' || typeof config === 'boolean') {
    if (!inWhere) return config;
    values.push(config);
    return sql.placeholder(`p${values.length - 1}`);
  }
  if (Array.isArray(config)) {
    const items = config.map((item) => withPlaceholders(item, values, inWhere));
    return items.includes(NOT_PLAIN) ? NOT_PLAIN : items;
  }
  if (typeof config !== 'object' || Object.getPrototypeOf(config) !== Object.prototype) return NOT_PLAIN;
  const shaped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const item = withPlaceholders(value, values, inWhere || key === 'where');
    if (item === NOT_PLAIN) return NOT_PLAIN;
    shaped[key] = item;
  }
  return shaped;
}

const keyOf = (shaped: unknown) =>
  JSON.stringify(shaped, (_key, value) => (value instanceof Placeholder ? `$${value.name}` : value));

type Prepared = { execute(values: Record<string, unknown>): Promise<unknown> };
const preparedReads = new WeakMap<object, LRUCache<string, Prepared>>();

/**
 * `db.query[table].findFirst(config)` (or findMany) with its SQL built once per shape of the config
 * and kept prepared: drizzle builds a relational query's SQL on every call (some 50–80 µs and 15 % of a
 * one-row read's server CPU). The values of its `where` become placeholders; a config holding anything
 * but plain data (SQL fragments, functions) is built as usual. Outside transactions only (the database
 * handle is the cache's key); 256 shapes per database.
 */
export function preparedRead<T extends keyof Tables, M extends 'findFirst' | 'findMany'>(
  db: Database,
  table: T,
  mode: M,
  config: Parameters<Tables[T][M]>[0],
): ReturnType<Tables[T][M]> | Promise<Awaited<ReturnType<Tables[T][M]>>> {
  const read = (c: typeof config) => (db.query[table][mode] as (c: unknown) => ReturnType<Tables[T][M]>)(c);
  const values: unknown[] = [];
  const shaped = withPlaceholders(config, values);
  if (shaped === NOT_PLAIN) return read(config);
  let cache = preparedReads.get(db);
  if (!cache) {
    cache = new LRUCache({ max: 256 });
    preparedReads.set(db, cache);
  }
  const key = `${String(table)} ${mode} ${keyOf(shaped)}`;
  let prepared = cache.get(key);
  if (!prepared) {
    prepared = (read(shaped as typeof config) as unknown as { prepare(name: string): Prepared }).prepare('read');
    cache.set(key, prepared);
  }
  return prepared.execute(Object.fromEntries(values.map((value, i) => [`p${i}`, value]))) as Promise<
    Awaited<ReturnType<Tables[T][M]>>
  >;
}
