import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { stamp } from '../db/columns.js';
import { roles } from './rules.js';

/** API tokens: only a SHA-256 of the secret is stored; the secret is shown once. */
export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  role: text('role', { enum: roles }).notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: stamp('created_at'),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});
