import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { bytea, stamp } from '../db/columns.js';
import { services } from '../service/tables.js';
import {
  backupKinds,
  backupStatuses,
  backupStoreKinds,
  onActiveBatchMessagesChoices,
  type ItemCount,
} from './rules.js';

/**
 * Where backups are kept: a directory on the server's disk or an Azure Storage container. The
 * credentials of an AZURE_BLOB store are sealed by crypto.ts; the API shows only their SecretInfo.
 */
export const backupStores = pgTable('backup_stores', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  kind: text('kind', { enum: backupStoreKinds }).notNull(),
  /** The deployment's own store (a directory under DATA_DIR), made at start; it cannot be deleted. */
  isDefault: boolean('is_default').notNull().default(false),
  path: text('path'),
  container: text('container'),
  sealedCredentials: text('sealed_credentials'),
  credentialsFingerprint: text('credentials_fingerprint'),
  credentialsUpdatedAt: timestamp('credentials_updated_at', { withTimezone: true }),
  accountName: text('account_name'),
  endpoint: text('endpoint'),
  createdAt: stamp('created_at'),
  updatedAt: stamp('updated_at'),
});

/**
 * A backup's description. Its content lives in its store under `backupName/`; backups taken before
 * stores existed have no store and keep their content in backup_chunks. Rows outlive their service;
 * an imported backup may come from a service this deployment never had (serviceId null).
 */
export const backups = pgTable(
  'backups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    serviceId: uuid('service_id').references(() => services.id),
    storeId: uuid('store_id').references(() => backupStores.id),
    backupName: text('backup_name'),
    serviceName: text('service_name').notNull(),
    edition: text('edition').notNull(),
    region: text('region').notNull(),
    kind: text('kind', { enum: backupKinds }).notNull(),
    status: text('status', { enum: backupStatuses }).notNull(),
    label: text('label'),
    failureReason: text('failure_reason'),
    allowBatchMessageLoss: boolean('allow_batch_message_loss').notNull().default(false),
    formatVersion: integer('format_version').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    storedBytes: bigint('stored_bytes', { mode: 'number' }),
    checksum: text('checksum'),
    itemCounts: jsonb('item_counts').$type<ItemCount[]>().notNull().default([]),
    excluded: jsonb('excluded').$type<string[]>().notNull().default([]),
    hybridConnectionNames: jsonb('hybrid_connection_names').$type<string[]>().notNull().default([]),
    warnings: jsonb('warnings').$type<string[]>().notNull().default([]),
    pinned: boolean('pinned').notNull().default(false),
    /** Until then nobody can delete the backup or shorten this lock (lockBackup, or its schedule's lockDays). */
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lockReason: text('lock_reason'),
    /** Name of the token that locked it, or the schedule. */
    lockedBy: text('locked_by'),
    /** Set while an instance works on it; a stale heartbeat means the instance died. */
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
    createdAt: stamp('created_at'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    verifiedAt: timestamp('verified_at', { withTimezone: true }),
  },
  (t) => [
    index('backups_service_idx').on(t.serviceId, t.createdAt),
    index('backups_status_idx').on(t.status),
    unique('backups_store_name_key').on(t.storeId, t.backupName),
  ],
);

/** Compressed, encrypted content of a backup taken before stores existed, in order (read only). */
export const backupChunks = pgTable(
  'backup_chunks',
  {
    backupId: uuid('backup_id')
      .notNull()
      .references(() => backups.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    data: bytea('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.backupId, t.seq] })],
);

/**
 * What a restore plan's checks need from a backup's content (its agreements, with their interchange
 * numbers, and whether it holds an archiving connection string), kept by the first full read that
 * found the content intact: re-validating a plan at execution then reads this instead of the whole
 * backup. Backups never change.
 */
export const backupManifests = pgTable('backup_manifests', {
  backupId: uuid('backup_id')
    .primaryKey()
    .references(() => backups.id, { onDelete: 'cascade' }),
  agreements: jsonb('agreements')
    .$type<{ id: string; name: string; lineageId: string; sourceFtpFolder: string | null; interchange: number }[]>()
    .notNull(),
  hasArchiving: boolean('has_archiving').notNull(),
  createdAt: stamp('created_at'),
});

/** Automated backups of one service. */
export const backupSchedules = pgTable('backup_schedules', {
  serviceId: uuid('service_id')
    .primaryKey()
    .references(() => services.id),
  cron: text('cron').notNull(),
  keepLast: integer('keep_last'),
  keepDays: integer('keep_days'),
  enabled: boolean('enabled').notNull().default(true),
  onActiveBatchMessages: text('on_active_batch_messages', { enum: onActiveBatchMessagesChoices }).notNull(),
  nextRunAt: timestamp('next_run_at', { withTimezone: true }),
  lastRunAt: timestamp('last_run_at', { withTimezone: true }),
  lastOutcome: text('last_outcome'),
  lastBackupId: uuid('last_backup_id'),
  /** Each backup the schedule makes is locked for this many days; null: not locked. */
  lockDays: integer('lock_days'),
  /** Where its backups go; null: the deployment's default store. */
  storeId: uuid('store_id').references(() => backupStores.id),
  /** Each backup it makes is also copied here. */
  copyStoreId: uuid('copy_store_id').references(() => backupStores.id),
  updatedAt: stamp('updated_at'),
});

/**
 * Scratch rows of a backup diff in progress: each side's items by name with digests of their fields,
 * so that the database sorts and joins them rather than memory. Removed when the diff is done.
 */
export const backupDiffItems = pgTable(
  'backup_diff_items',
  {
    diffId: uuid('diff_id').notNull(),
    /** 0: the side compared from (the older backup), 1: the side compared to. */
    side: integer('side').notNull(),
    category: text('category').notNull(),
    name: text('name').notNull(),
    digest: text('digest').notNull(),
    /** Field name → digest of its value (never the value: it may be a secret or large content). */
    fields: jsonb('fields').$type<Record<string, string>>().notNull(),
    createdAt: stamp('created_at'),
  },
  (t) => [
    primaryKey({ columns: [t.diffId, t.side, t.category, t.name] }),
    index('backup_diff_items_created_idx').on(t.createdAt),
  ],
);
