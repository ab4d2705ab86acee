import { and, desc, eq, isNull, lte, or } from 'drizzle-orm';
import { releaseBatch } from '../edi/service.js';
import { DomainError, NotFoundError, ValidationError } from '../errors.js';
import { startDueSlots } from '../jobs/slots.js';
import { describeError } from '../log.js';
import type { Runtime } from '../runtime.js';
import { assertAllowed, editionInfo } from '../service/rules.js';
import { services } from '../service/tables.js';
import { checkScheduleInterval, EditionWithoutBackupError, MAX_LOCK_DAYS, nextRun, prunable } from './rules.js';
import { activeBatches, deleteBackup, startBackup } from './service.js';
import { storeById } from './store-service.js';
import { copyBackup } from './transfer.js';
import { backupSchedules, backups } from './tables.js';

export type ScheduleRow = typeof backupSchedules.$inferSelect;

export interface ScheduleInput {
  serviceId: string;
  cron: string;
  keepLast?: number | null;
  keepDays?: number | null;
  enabled?: boolean | null;
  onActiveBatchMessages?: ScheduleRow['onActiveBatchMessages'] | null;
  lockDays?: number | null;
  /** Where its backups go; null: the deployment's default store. */
  storeId?: string | null;
  /** A second store each backup is copied into. */
  copyStoreId?: string | null;
}

/** Creates or replaces a service's backup schedule; its next run is computed from now. */
export async function setBackupSchedule(rt: Runtime, input: ScheduleInput): Promise<ScheduleRow> {
  const next = nextRun(input.cron);
  for (const field of ['keepLast', 'keepDays'] as const) {
    const value = input[field];
    if (value != null && (!Number.isInteger(value) || value < 1 || value > 100_000))
      throw ValidationError.field(['input', field], 'must be a whole number from 1 to 100000, or null for no limit');
  }
  const lockDays = input.lockDays;
  if (lockDays != null && (!Number.isInteger(lockDays) || lockDays < 1 || lockDays > MAX_LOCK_DAYS))
    throw ValidationError.field(['input', 'lockDays'], `must be a whole number from 1 to ${MAX_LOCK_DAYS}, or null`);
  const enabled = input.enabled ?? true;
  return rt.database.db.transaction(async (tx) => {
    const [service] = await tx.select().from(services).where(eq(services.id, input.serviceId)).for('update');
    if (!service) throw new NotFoundError('Service', input.serviceId);
    if (!editionInfo(service.edition).backupRestore) throw new EditionWithoutBackupError(service.edition);
    checkScheduleInterval(input.cron, service.edition, rt.config.limits.scheduleMinIntervalSeconds);
    assertAllowed('backup', service.state, service.name);
    for (const id of [input.storeId, input.copyStoreId]) if (id) await storeById(tx, id);
    if (input.copyStoreId && input.copyStoreId === input.storeId)
      throw ValidationError.field(['input', 'copyStoreId'], 'must be another store than storeId');
    const values = {
      storeId: input.storeId ?? null,
      copyStoreId: input.copyStoreId ?? null,
      cron: input.cron.trim(),
      keepLast: input.keepLast ?? null,
      keepDays: input.keepDays ?? null,
      enabled,
      onActiveBatchMessages: input.onActiveBatchMessages ?? 'SKIP',
      lockDays: lockDays ?? null,
      nextRunAt: enabled ? next : null,
      updatedAt: new Date(),
    };
    const [row] = await tx
      .insert(backupSchedules)
      .values({ serviceId: service.id, ...values })
      .onConflictDoUpdate({ target: backupSchedules.serviceId, set: values })
      .returning();
    return row!;
  });
}

/** Starts every backup schedule that is due, once across instances (jobs/slots.ts says how). */
export async function runDueSchedules(rt: Runtime, now = new Date()): Promise<number> {
  const { db } = rt.database;
  return startDueSlots<ScheduleRow>(db, backupSchedules, now, nextRun, (claimed) =>
    // The backup runs as background work: a long one does not hold up this instance's other duties.
    rt.background.run(`scheduled backup of ${claimed.serviceId}`, async () => {
      const outcome = await runScheduledBackup(rt, claimed).catch((error) => {
        if (error instanceof DomainError) return { text: `FAILED: ${error.message}`, backupId: null };
        rt.log.error(describeError(error), 'scheduled backup failed');
        return { text: 'FAILED: internal error', backupId: null };
      });
      await db
        .update(backupSchedules)
        .set({ lastOutcome: outcome.text, lastBackupId: outcome.backupId })
        .where(eq(backupSchedules.serviceId, claimed.serviceId));
    }),
  );
}

async function runScheduledBackup(
  rt: Runtime,
  schedule: ScheduleRow,
): Promise<{ text: string; backupId: string | null }> {
  const batches = await activeBatches(rt.database.db, schedule.serviceId);
  const waiting = batches.reduce((n, b) => n + b.messageCount, 0);
  if (waiting > 0 && schedule.onActiveBatchMessages === 'SKIP') {
    return { text: `SKIPPED: ${waiting} message(s) wait in batches (policy SKIP)`, backupId: null };
  }
  if (waiting > 0 && schedule.onActiveBatchMessages === 'RELEASE_BATCHES_FIRST') {
    // Releasing a batch sends its messages, which only an ACTIVE service does.
    const [service] = await rt.database.db
      .select({ state: services.state })
      .from(services)
      .where(eq(services.id, schedule.serviceId));
    if (service?.state !== 'ACTIVE') {
      return {
        text: `SKIPPED: ${waiting} message(s) wait in batches and cannot be released while the service is ${service?.state ?? 'gone'} (policy RELEASE_BATCHES_FIRST)`,
        backupId: null,
      };
    }
    for (const batch of batches) await releaseBatch(rt, batch.agreementId);
  }
  const { done } = await startBackup(rt, {
    serviceId: schedule.serviceId,
    kind: 'SCHEDULED',
    allowBatchMessageLoss: schedule.onActiveBatchMessages === 'BACKUP_ANYWAY',
    lockDays: schedule.lockDays,
  });
  const backup = await done;
  if (backup.status !== 'SUCCEEDED') return { text: `FAILED: ${backup.failureReason}`, backupId: backup.id };
  const copied = schedule.copyStoreId
    ? await copyBackup(rt, backup.id, schedule.copyStoreId).then(
        () => '; copied',
        (error) => `; the copy FAILED: ${error instanceof DomainError ? error.message : 'internal error'}`,
      )
    : '';
  const pruned = await pruneScheduledBackups(rt, schedule);
  return {
    text: `SUCCEEDED${copied}${pruned ? `; retention removed ${pruned} older backup(s)` : ''}`,
    backupId: backup.id,
  };
}

/** Retention: removes unpinned, unlocked scheduled backups beyond keepLast or older than keepDays. */
export async function pruneScheduledBackups(rt: Runtime, schedule: ScheduleRow): Promise<number> {
  if (schedule.keepLast === null && schedule.keepDays === null) return 0;
  const candidates = await rt.database.db
    .select({ id: backups.id, createdAt: backups.createdAt })
    .from(backups)
    .where(
      and(
        eq(backups.serviceId, schedule.serviceId),
        eq(backups.kind, 'SCHEDULED'),
        eq(backups.status, 'SUCCEEDED'),
        eq(backups.pinned, false),
        or(isNull(backups.lockedUntil), lte(backups.lockedUntil, new Date())),
      ),
    )
    .orderBy(desc(backups.createdAt));
  let removed = 0;
  for (const backup of prunable(candidates, schedule.keepLast, schedule.keepDays)) {
    await deleteBackup(rt, backup.id).then(
      () => removed++,
      () => undefined,
    ); // one in use by a restore stays
  }
  return removed;
}
