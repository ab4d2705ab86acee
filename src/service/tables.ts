import { sql } from 'drizzle-orm';
import { index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { stamp } from '../db/columns.js';
import { editionNames, secretKinds, serviceStates } from './rules.js';

export const services = pgTable(
  'services',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    edition: text('edition', { enum: editionNames }).notNull(),
    scaleUnitCount: integer('scale_unit_count').notNull(),
    productVersion: text('product_version').notNull(),
    region: text('region').notNull(),
    state: text('state', { enum: serviceStates }).notNull(),
    acsNamespace: text('acs_namespace'),
    createdAt: stamp('created_at'),
    updatedAt: stamp('updated_at'),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    // One live service per name; a deleted one keeps its name only as a hold checked by time.
    uniqueIndex('services_live_name_key').on(t.name).where(sql`state <> 'DELETED'`),
    index('services_name_idx').on(t.name, t.deletedAt),
  ],
);

/** Service settings that are secrets, sealed by crypto.ts; the API shows only their SecretInfo. */
export const serviceSecrets = pgTable(
  'service_secrets',
  {
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: secretKinds }).notNull(),
    sealed: text('sealed').notNull(),
    fingerprint: text('fingerprint').notNull(),
    updatedAt: stamp('updated_at'),
  },
  (t) => [primaryKey({ columns: [t.serviceId, t.kind] })],
);
