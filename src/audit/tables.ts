import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { stamp } from '../db/columns.js';

/** Who did what: every mutation, allowed or refused. Never a secret value: no inputs are stored. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    at: stamp('at'),
    tokenId: uuid('token_id'),
    tokenName: text('token_name').notNull(),
    operation: text('operation').notNull(),
    /** Global id of the object the mutation named (its first id input). */
    targetId: text('target_id'),
    /** The service concerned, when there is one; kept after the service is deleted. */
    serviceId: uuid('service_id'),
    /** SUCCEEDED, or the error code it ended with (FORBIDDEN, VALIDATION_FAILED, …). */
    outcome: text('outcome').notNull(),
  },
  (t) => [index('audit_log_at_idx').on(t.at), index('audit_log_service_idx').on(t.serviceId, t.at)],
);
