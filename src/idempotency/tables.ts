import { index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { stamp } from '../db/columns.js';

/**
 * The first call of each idempotency key: a retry with the same key and input gets `result` back
 * instead of acting again. Kept 24 hours; a key is its caller's own (its token).
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    /** Whose key: the token's id (or the bootstrap token's name). */
    principal: text('principal').notNull(),
    key: text('key').notNull(),
    operation: text('operation').notNull(),
    /** Keyed fingerprint of the operation and its input as sent, never the input itself (it may hold secrets). */
    inputFingerprint: text('input_fingerprint').notNull(),
    /** The first call's result, sealed; null while that call is still running. */
    result: text('result'),
    createdAt: stamp('created_at'),
  },
  (t) => [primaryKey({ columns: [t.principal, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);
