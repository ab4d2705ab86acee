import { bigint, index, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { stamp } from '../db/columns.js';
import { agreements } from '../artifact/tables.js';

const position = (column: string) => bigint(column, { mode: 'number' }).notNull().default(0);

/**
 * Control numbers of one agreement, as positions that only grow: the number shown (ISA13, GS06,
 * ST02) is the position wrapped into 1..999999999, 0 before any message.
 */
export const controlNumbers = pgTable('control_numbers', {
  agreementId: uuid('agreement_id')
    .primaryKey()
    .references(() => agreements.id, { onDelete: 'cascade' }),
  interchange: position('interchange'),
  group: position('group'),
  transactionSet: position('transaction_set'),
  updatedAt: stamp('updated_at'),
});

/**
 * The highest position ever issued along an agreement lineage. Deliberately not tied to any
 * agreement or service: it outlives deletions and is never part of a backup, so a restore can
 * always continue past every number already sent.
 */
export const controlNumberHighWater = pgTable('control_number_high_water', {
  lineageId: uuid('lineage_id').primaryKey(),
  interchange: position('interchange'),
  group: position('group'),
  transactionSet: position('transaction_set'),
  updatedAt: stamp('updated_at'),
});

export const as2MicValues = pgTable(
  'as2_mic_values',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    agreementId: uuid('agreement_id')
      .notNull()
      .references(() => agreements.id, { onDelete: 'cascade' }),
    messageId: text('message_id').notNull(),
    algorithm: text('algorithm').notNull(),
    value: text('value').notNull(),
    createdAt: stamp('created_at'),
  },
  (t) => [index('as2_mic_values_agreement_idx').on(t.agreementId, t.createdAt)],
);

/** Active messages waiting in an agreement's batch; never part of a backup. */
export const batchMessages = pgTable(
  'batch_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    agreementId: uuid('agreement_id')
      .notNull()
      .references(() => agreements.id, { onDelete: 'cascade' }),
    payload: text('payload').notNull(),
    transactionSet: integer('transaction_set').notNull(),
    createdAt: stamp('created_at'),
  },
  (t) => [index('batch_messages_agreement_idx').on(t.agreementId)],
);
