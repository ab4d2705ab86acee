import type { Database } from './client.js';

/** A transaction: what `db.transaction` hands its callback. Operations that must share one take it. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/** The database or a transaction, limited to the builders a function uses (reads by default). */
export type Queryable<K extends keyof Database = 'select'> = Pick<Database, K>;
