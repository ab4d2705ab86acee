import { encodeGlobalID } from '@pothos/plugin-relay';
import { and, eq } from 'drizzle-orm';
import { InvalidStateError, NotFoundError } from '../errors.js';
import type { BackupStatusChange } from '../events/bus.js';
import { builder, sharedConnection, type Types } from '../graphql/builder.js';
import { ErrorInterface } from '../graphql/errors.js';
import { idProblem } from '../graphql/global-ids.js';
import { defineMutation } from '../graphql/mutation.js';
import { defineSubscription } from '../graphql/subscription.js';
import { Service } from '../service/graphql.js';
import {
  type backupKinds,
  type backupStatuses,
  type onActiveBatchMessagesChoices,
  validateBackupLabel,
  validateBackupName,
  ActiveBatchMessagesError,
  BackupLockedError,
  EditionWithoutBackupError,
  MAX_LOCK_DAYS,
  type BackupStatus,
} from './rules.js';
import * as schedule from './schedule.js';
import * as ops from './service.js';
import { StoreUnavailableError } from './object-store.js';
import { BackupStore } from './store-graphql.js';
import { backups } from './tables.js';

export const BackupStatusEnum = builder.enumType('BackupStatus', {
  description: 'Where a backup is in its life.',
  values: {
    PENDING: { description: 'Recorded; the snapshot has not started yet.' },
    RUNNING: { description: 'The snapshot is being taken.' },
    SUCCEEDED: { description: 'Complete and restorable.' },
    FAILED: { description: 'The snapshot failed (see failureReason); nothing to restore.' },
    CORRUPT: { description: 'Verification found the stored content damaged; it can never be restored.' },
    UNREADABLE: {
      description:
        'Found in a store by importBackups but not readable here (e.g. written under another ENCRYPTION_KEY; see failureReason); it cannot be restored.',
    },
  } satisfies Record<(typeof backupStatuses)[number], unknown>,
});

const BackupKindEnum = builder.enumType('BackupKind', {
  description: 'Who asked for a backup.',
  values: {
    ON_DEMAND: { description: 'Taken by an operator with createBackup.' },
    SCHEDULED: { description: "Taken by the service's backup schedule; subject to its retention." },
  } satisfies Record<(typeof backupKinds)[number], unknown>,
});

const OnActiveBatchMessagesEnum = builder.enumType('OnActiveBatchMessages', {
  description: 'What a scheduled backup does when batches hold messages (they are never backed up).',
  values: {
    SKIP: { description: 'Skip this run and record why.' },
    BACKUP_ANYWAY: { description: 'Back up without them, recording a warning (they would be lost on restore).' },
    RELEASE_BATCHES_FIRST: { description: 'Release every batch, then back up.' },
  } satisfies Record<(typeof onActiveBatchMessagesChoices)[number], unknown>,
});

const ItemCount = builder.objectRef<{ category: string; count: number }>('ItemCount').implement({
  description: 'How many items of one category a backup holds.',
  fields: (t) => ({
    category: t.exposeString('category', {
      description: 'Category, e.g. PARTNERS, AGREEMENTS, CONTROL_NUMBERS, AS2_MIC_VALUES.',
    }),
    count: t.exposeInt('count', { description: 'Items of that category.' }),
  }),
});

export const Backup = builder.drizzleNode('backups', {
  name: 'Backup',
  description:
    "A consistent, compressed and encrypted snapshot of a service's settings, configuration and runtime state. Backups outlive their service.",
  id: { column: (b) => b.id },
  fields: (t) => ({
    serviceName: t.exposeString('serviceName', { description: 'Name of the service it was taken from.' }),
    edition: t.exposeString('edition', {
      description: 'Edition of the service when it was taken (a restore needs this edition or higher).',
    }),
    region: t.exposeString('region', { description: 'Region of the service when it was taken.' }),
    kind: t.field({ type: BackupKindEnum, description: 'On demand or scheduled.', resolve: (b) => b.kind }),
    status: t.field({ type: BackupStatusEnum, description: 'Status.', resolve: (b) => b.status }),
    label: t.exposeString('label', { nullable: true, description: 'Label given by the operator.' }),
    failureReason: t.exposeString('failureReason', { nullable: true, description: 'Why it FAILED or is CORRUPT.' }),
    formatVersion: t.exposeInt('formatVersion', { description: 'Version of the content format.' }),
    sizeBytes: t.exposeInt('sizeBytes', {
      nullable: true,
      description: 'Size of the content before compression, in bytes.',
    }),
    storedBytes: t.exposeInt('storedBytes', {
      nullable: true,
      description: 'Bytes stored (compressed and encrypted).',
    }),
    checksum: t.exposeString('checksum', {
      nullable: true,
      description: 'SHA-256 of the content (hex); verifyBackup checks it.',
    }),
    pinned: t.exposeBoolean('pinned', { description: 'Pinned backups are never pruned by retention nor deleted.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was asked for.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true, description: 'When the snapshot started.' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true, description: 'When it finished.' }),
    verifiedAt: t.expose('verifiedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When verifyBackup last checked it.',
    }),
    warnings: t.exposeStringList('warnings', { description: 'Warnings, e.g. batch messages that were not kept.' }),
    itemCounts: t.field({
      type: [ItemCount],
      description: 'What it holds: categories and how many of each.',
      resolve: (b) => b.itemCounts,
    }),
    excluded: t.exposeStringList('excluded', {
      description: 'What it deliberately leaves out: hybrid connections (named), tracking data, batch messages.',
    }),
    service: t.relation('service', {
      nullable: true,
      description:
        'The service it was taken from (possibly DELETED); null for a backup imported from a service this deployment never had.',
    }),
    store: t.relation('store', {
      nullable: true,
      description:
        'The store its content lives in; null for a backup taken before stores existed (kept in the database).',
    }),
    backupName: t.exposeString('backupName', {
      nullable: true,
      description:
        'Its name in its store (the folder of its manifest and chunks); null for a backup kept in the database.',
    }),
  }),
});

builder.drizzleObject('backupSchedules', {
  name: 'BackupSchedule',
  description: 'Automated backups of a service.',
  fields: (t) => ({
    cron: t.exposeString('cron', { description: 'Cron expression in UTC (5 fields, or 6 with seconds first).' }),
    keepLast: t.exposeInt('keepLast', {
      nullable: true,
      description: 'Keep at most this many scheduled backups (pinned ones aside).',
    }),
    keepDays: t.exposeInt('keepDays', {
      nullable: true,
      description: 'Remove scheduled backups older than this many days (pinned ones aside).',
    }),
    enabled: t.exposeBoolean('enabled', { description: 'Whether the schedule runs.' }),
    store: t.field({
      type: BackupStore,
      nullable: true,
      description: "Where its backups go; null: the deployment's default store.",
      select: { columns: { storeId: true } },
      resolve: async (s, _args, ctx) =>
        s.storeId ? ((await ctx.db.query.backupStores.findFirst({ where: { id: s.storeId } })) ?? null) : null,
    }),
    copyStore: t.field({
      type: BackupStore,
      nullable: true,
      description: 'Each of its backups is copied into this store too; null: no copy.',
      select: { columns: { copyStoreId: true } },
      resolve: async (s, _args, ctx) =>
        s.copyStoreId ? ((await ctx.db.query.backupStores.findFirst({ where: { id: s.copyStoreId } })) ?? null) : null,
    }),
    lockDays: t.exposeInt('lockDays', {
      nullable: true,
      description: 'Each backup the schedule makes is locked for this many days; null: not locked.',
    }),
    onActiveBatchMessages: t.field({
      type: OnActiveBatchMessagesEnum,
      description: 'What to do when batches hold messages.',
      resolve: (s) => s.onActiveBatchMessages,
    }),
    nextRunAt: t.expose('nextRunAt', { type: 'DateTime', nullable: true, description: 'When it runs next.' }),
    lastRunAt: t.expose('lastRunAt', { type: 'DateTime', nullable: true, description: 'When it last ran.' }),
    lastOutcome: t.exposeString('lastOutcome', {
      nullable: true,
      description: 'What the last run did: SUCCEEDED, SKIPPED or FAILED with the reason.',
    }),
    lastBackup: t.field({
      type: Backup,
      nullable: true,
      description: 'The backup the last run made.',
      select: { columns: { lastBackupId: true } },
      resolve: async (s, _args, ctx) =>
        s.lastBackupId ? ((await ctx.db.query.backups.findFirst({ where: { id: s.lastBackupId } })) ?? null) : null,
    }),
  }),
});

/** Both `backups` lists (all backups, one service's backups) page through BackupConnection. */
const BackupConnection = sharedConnection(Backup, 'Backup');

builder.drizzleObjectFields(Service, (t) => ({
  backups: t.relatedConnection(
    'backups',
    {
      description: 'Backups of this service, newest first.',
      totalCount: true,
      query: { orderBy: { createdAt: 'desc' } },
    },
    BackupConnection,
  ),
  lastBackup: t.drizzleField({
    type: 'backups',
    nullable: true,
    description: 'The newest SUCCEEDED backup (one query per service: ask for it on one service, not on long lists).',
    select: { columns: { id: true } },
    resolve: async (query, service, _args, ctx) =>
      (await ctx.db.query.backups.findFirst(
        query({ where: { serviceId: service.id, status: 'SUCCEEDED' }, orderBy: { completedAt: 'desc', id: 'desc' } }),
      )) ?? null,
  }),
  backupSchedule: t.relation('backupSchedule', { nullable: true, description: 'Automated backups, if configured.' }),
}));

builder.queryFields((t) => ({
  backups: t.drizzleConnection(
    {
      type: 'backups',
      description: 'Backups, newest first, including those of deleted services.',
      authScopes: { reader: true },
      args: {
        serviceName: t.arg.string({ required: false, description: 'Only backups of services with this name.' }),
        status: t.arg({ type: BackupStatusEnum, required: false, description: 'Only backups with this status.' }),
      },
      totalCount: (_p, args, ctx) =>
        ctx.db.$count(
          backups,
          and(
            args.serviceName ? eq(backups.serviceName, args.serviceName) : undefined,
            args.status ? eq(backups.status, args.status as BackupStatus) : undefined,
          ),
        ),
      resolve: (query, _p, args, ctx) =>
        ctx.db.query.backups.findMany(
          query({
            where: {
              ...(args.serviceName ? { serviceName: args.serviceName } : {}),
              ...(args.status ? { status: args.status as BackupStatus } : {}),
            },
            orderBy: { createdAt: 'desc' },
          }),
        ),
    },
    BackupConnection,
  ),
  backup: t.drizzleField({
    type: 'backups',
    nullable: true,
    description: 'One backup by id.',
    authScopes: { reader: true },
    args: { id: t.arg.globalID({ for: Backup, required: true, description: 'Global id of the backup.' }) },
    resolve: async (query, _root, args, ctx, info) => {
      if (idProblem(info)) return null; // malformed, or not a backup's: no backup has it
      return (await ctx.db.query.backups.findFirst(query({ where: { id: args.id.id } }))) ?? null;
    },
  }),
}));

export const backupResult = (
  t: PothosSchemaTypes.ObjectFieldBuilder<Types, { backup: typeof backups.$inferSelect }>,
) => ({
  backup: t.field({ type: Backup, description: 'The backup.', resolve: (r) => r.backup }),
});

builder.objectType(ActiveBatchMessagesError, {
  name: 'ActiveBatchMessagesError',
  description: 'Batches hold messages that a backup would not keep (code ACTIVE_BATCH_MESSAGES).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    batches: t.field({
      type: [
        builder
          .objectRef<{ agreementId: string; agreementName: string; messageCount: number }>('BatchMessageCount')
          .implement({
            description: 'Messages waiting in one batch.',
            fields: (f) => ({
              agreementId: f.id({
                description: 'Global id of the agreement.',
                resolve: (b) => encodeGlobalID('Agreement', b.agreementId),
              }),
              agreementName: f.exposeString('agreementName', { description: 'The agreement.' }),
              messageCount: f.exposeInt('messageCount', { description: 'Messages waiting.' }),
            }),
          }),
      ],
      description: 'Each batch that holds messages, and how many.',
      resolve: (e) => e.batches,
    }),
  }),
});

builder.objectType(EditionWithoutBackupError, {
  name: 'EditionWithoutBackupRestoreError',
  description: "The service's edition does not support backup and restore (code EDITION_WITHOUT_BACKUP_RESTORE).",
  interfaces: [ErrorInterface],
});

defineMutation('createBackup', {
  idempotent: true,
  description:
    'Backs up a service (ACTIVE, STOPPED or SUSPENDED). Returns at once with a PENDING backup; follow it with backupStatusChanged. Refused with ACTIVE_BATCH_MESSAGES while batches hold messages, unless allowBatchMessageLoss is true.',
  scope: 'operator',
  errors: [
    NotFoundError,
    InvalidStateError,
    ActiveBatchMessagesError,
    EditionWithoutBackupError,
    StoreUnavailableError,
  ],
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    label: t.string({ description: 'A label to recognise it by, e.g. "before partner migration".' }),
    allowBatchMessageLoss: t.boolean({
      description: 'Back up even though batches hold messages; they are not kept and a warning says so.',
    }),
    storeId: t.globalID({
      for: BackupStore,
      description:
        "Where to keep it; default: the store of the service's backup schedule, else the deployment's default store.",
    }),
    backupName: t.string({
      description:
        'Its name in the store: 3 to 63 lowercase letters, digits and single hyphens (an Azure container name). Default: <service>-<yyyyMMdd>-<HHmmss>.',
    }),
  }),
  resolve: async (input, ctx) => {
    if (input.label != null) validateBackupLabel(input.label, ['input', 'label']);
    if (input.backupName != null) validateBackupName(input.backupName, ['input', 'backupName']);
    return {
      backup: await ops.createBackup(ctx.runtime, {
        serviceId: input.serviceId.id,
        label: input.label,
        allowBatchMessageLoss: input.allowBatchMessageLoss,
        storeId: input.storeId?.id,
        backupName: input.backupName,
      }),
    };
  },
  success: backupResult,
});

defineMutation('verifyBackup', {
  idempotent: true,
  description: 'Re-reads, decrypts and re-checksums a backup. A mismatch marks it CORRUPT: it can never be restored.',
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError, StoreUnavailableError],
  input: (t) => ({ backupId: t.globalID({ for: Backup, required: true, description: 'The backup.' }) }),
  resolve: async (input, ctx) => ({ backup: await ops.verifyBackup(ctx.runtime, input.backupId.id) }),
  success: backupResult,
});

defineMutation('pinBackup', {
  description: 'Pins a backup (never pruned nor deleted) or unpins it.',
  scope: 'operator',
  errors: [NotFoundError],
  input: (t) => ({
    backupId: t.globalID({ for: Backup, required: true, description: 'The backup.' }),
    pinned: t.boolean({ required: true, description: 'true to pin, false to unpin.' }),
  }),
  resolve: async (input, ctx) => ({ backup: await ops.pinBackup(ctx.runtime, input.backupId.id, input.pinned) }),
  success: backupResult,
});

defineMutation('deleteBackup', {
  description:
    'Deletes a backup and its content. Refused while locked (BACKUP_LOCKED), pinned, running, or used by an executing restore.',
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError, BackupLockedError, StoreUnavailableError],
  input: (t) => ({ backupId: t.globalID({ for: Backup, required: true, description: 'The backup.' }) }),
  resolve: async (input, ctx) => {
    await ops.deleteBackup(ctx.runtime, input.backupId.id);
    return { deletedId: encodeGlobalID('Backup', input.backupId.id) };
  },
  success: (t) => ({
    deletedId: t.id({ description: 'Global id of the deleted backup.', resolve: (r) => r.deletedId }),
  }),
});

defineMutation('setBackupSchedule', {
  description:
    'Configures automated backups of a service: a UTC cron (5 fields, or 6 with seconds), retention, and what to do with batch messages.',
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError, EditionWithoutBackupError],
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    cron: t.string({ required: true, description: 'When to back up, e.g. "0 2 * * *" (02:00 UTC daily).' }),
    keepLast: t.int({ description: 'Keep at most this many scheduled backups.' }),
    keepDays: t.int({ description: 'Remove scheduled backups older than this many days.' }),
    enabled: t.boolean({ description: 'Default true.' }),
    onActiveBatchMessages: t.field({ type: OnActiveBatchMessagesEnum, description: 'Default SKIP.' }),
    lockDays: t.int({
      description: `Lock each backup the schedule makes for this many days (1–${MAX_LOCK_DAYS}): nobody can delete it before then and retention skips it. Null or left out: not locked.`,
    }),
    storeId: t.globalID({
      for: BackupStore,
      description:
        "Where its backups go (and the service's on-demand backups by default); left out: the deployment's default store.",
    }),
    copyStoreId: t.globalID({
      for: BackupStore,
      description:
        'Copy each of its backups into this store too (e.g. another region); each copy is a backup of its own.',
    }),
  }),
  resolve: async (input, ctx) => {
    const row = await schedule.setBackupSchedule(ctx.runtime, {
      ...input,
      serviceId: input.serviceId.id,
      storeId: input.storeId?.id,
      copyStoreId: input.copyStoreId?.id,
    });
    return { serviceId: row.serviceId };
  },
  success: (t) => ({
    schedule: t.drizzleField({
      type: 'backupSchedules',
      description: 'The schedule as it is now.',
      resolve: async (query, r, _a, ctx) =>
        (await ctx.db.query.backupSchedules.findFirst(query({ where: { serviceId: r.serviceId } })))!,
    }),
    service: t.drizzleField({
      type: 'services',
      description: 'The service.',
      resolve: async (query, r, _a, ctx) =>
        (await ctx.db.query.services.findFirst(query({ where: { id: r.serviceId } })))!,
    }),
  }),
});

const BackupStatusChangedEvent = builder.objectRef<BackupStatusChange>('BackupStatusChangedEvent').implement({
  description: 'A backup moved from one status to another.',
  fields: (t) => ({
    backup: t.drizzleField({
      type: 'backups',
      description: 'The backup, as it is now.',
      resolve: async (query, e, _a, ctx) =>
        (await ctx.db.query.backups.findFirst(query({ where: { id: e.backupId } })))!,
    }),
    previousStatus: t.field({
      type: BackupStatusEnum,
      nullable: true,
      description: 'Status before; null for a new backup.',
      resolve: (e) => e.previousStatus as BackupStatus | null,
    }),
    status: t.field({ type: BackupStatusEnum, description: 'Status now.', resolve: (e) => e.status as BackupStatus }),
    at: t.field({ type: 'DateTime', description: 'When it changed.', resolve: (e) => e.at }),
  }),
});

defineSubscription('backupStatusChanged', {
  description: 'Status changes of the backups of one service, or of all services when serviceId is left out.',
  type: BackupStatusChangedEvent,
  scope: 'reader',
  id: { arg: 'serviceId', of: 'Service', required: false, description: 'Only this service.' },
  topic: 'backupStatusChanged',
  idOf: (event) => event.serviceId ?? '',
});
