import { boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { CategoryDiff } from '../backup/diff.js';
import { backups } from '../backup/tables.js';
import { stamp } from '../db/columns.js';
import { services } from '../service/tables.js';

export const drillStatuses = ['RUNNING', 'PASSED', 'FAILED'] as const;

/** When to prove a service's latest backup restores: a UTC cron. */
export const restoreDrillSchedules = pgTable('restore_drill_schedules', {
  serviceId: uuid('service_id')
    .primaryKey()
    .references(() => services.id),
  cron: text('cron').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  nextRunAt: timestamp('next_run_at', { withTimezone: true }),
  lastRunAt: timestamp('last_run_at', { withTimezone: true }),
  updatedAt: stamp('updated_at'),
});

/** One drill: the latest backup restored into a scratch service, compared with the backup, then removed. */
export const restoreDrills = pgTable(
  'restore_drills',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => services.id),
    /** Cleared if the backup is deleted later; the drill keeps its result. */
    backupId: uuid('backup_id').references(() => backups.id, { onDelete: 'set null' }),
    /** The restore plan that made the scratch service. */
    planId: uuid('plan_id'),
    status: text('status', { enum: drillStatuses }).notNull(),
    /** What the restored scratch service held that differs from the backup. */
    differences: jsonb('differences').$type<CategoryDiff[]>().notNull().default([]),
    failureReason: text('failure_reason'),
    startedAt: stamp('started_at'),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    durationMs: integer('duration_ms'),
  },
  (t) => [index('restore_drills_service_idx').on(t.serviceId, t.startedAt)],
);
