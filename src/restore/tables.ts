import { index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { stamp } from '../db/columns.js';
import { backups } from '../backup/tables.js';
import { services } from '../service/tables.js';
import {
  checklistKinds,
  collisionPolicies,
  controlNumberPolicies,
  restoreStates,
  type RestoreCheck,
  type RestoreProgress,
} from './rules.js';
import type { StoredSelection } from './selection.js';

export const restorePlans = pgTable(
  'restore_plans',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Cleared when the backup is deleted after the plan finished (the plan keeps its history). */
    backupId: uuid('backup_id').references(() => backups.id, { onDelete: 'set null' }),
    targetName: text('target_name').notNull(),
    targetEdition: text('target_edition').notNull(),
    targetRegion: text('target_region').notNull(),
    controlNumberPolicy: text('control_number_policy', { enum: controlNumberPolicies }).notNull(),
    state: text('state', { enum: restoreStates }).notNull(),
    checks: jsonb('checks').$type<RestoreCheck[]>().notNull(),
    /** A partial restore: what is restored, dependencies included (null: the whole backup). */
    selection: jsonb('selection').$type<StoredSelection>(),
    /**
     * A merge: the existing service the selection is restored into (through a staging service, the
     * plan's serviceId while RESTORING), what happens to items whose name it already has, and the
     * state it returns to afterwards.
     */
    targetServiceId: uuid('target_service_id').references(() => services.id, { onDelete: 'set null' }),
    onCollision: text('on_collision', { enum: collisionPolicies }),
    targetPreviousState: text('target_previous_state', { enum: ['SUSPENDED', 'STOPPED'] }),
    /** The restored service, once executing created it. */
    serviceId: uuid('service_id').references(() => services.id, { onDelete: 'set null' }),
    failureReason: text('failure_reason'),
    /** Durable work: the instance restoring it holds a lease; an expired lease is taken over. */
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    attempts: integer('attempts').notNull().default(0),
    createdAt: stamp('created_at'),
    updatedAt: stamp('updated_at'),
  },
  (t) => [
    index('restore_plans_state_idx').on(t.state),
    index('restore_plans_service_idx').on(t.serviceId),
    index('restore_plans_backup_idx').on(t.backupId),
  ],
);

/** Every transition and progress step of a plan, numbered; subscribers replay it. */
export const restoreEvents = pgTable(
  'restore_events',
  {
    planId: uuid('plan_id')
      .notNull()
      .references(() => restorePlans.id, { onDelete: 'cascade' }),
    sequence: integer('sequence').notNull(),
    state: text('state', { enum: restoreStates }).notNull(),
    previousState: text('previous_state', { enum: restoreStates }),
    message: text('message').notNull(),
    progress: jsonb('progress').$type<RestoreProgress>(),
    at: stamp('at'),
  },
  (t) => [primaryKey({ columns: [t.planId, t.sequence] })],
);

/** Post-restore checklist of a restored service. */
export const checklistItems = pgTable(
  'checklist_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: checklistKinds }).notNull(),
    message: text('message').notNull(),
    /** For an FTP conflict: the restored agreement and the folder it shares. */
    agreementId: uuid('agreement_id'),
    sourceFtpFolder: text('source_ftp_folder'),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    position: integer('position').notNull(),
  },
  (t) => [index('checklist_items_service_idx').on(t.serviceId)],
);
