import { and, desc, eq } from 'drizzle-orm';
import { diffFromService } from '../backup/diff.js';
import { checkScheduleInterval, EditionWithoutBackupError, nextRun } from '../backup/rules.js';
import { backups } from '../backup/tables.js';
import { DomainError, InvalidStateError, NotFoundError } from '../errors.js';
import { publishOnCommit } from '../events/bus.js';
import { startDueSlots } from '../jobs/slots.js';
import { describeError } from '../log.js';
import {
  cancelRestorePlan,
  createRestorePlan,
  discardRestoredService,
  executeRestorePlan,
} from '../restore/lifecycle.js';
import { blockers } from '../restore/rules.js';
import { restorePlans } from '../restore/tables.js';
import type { Runtime } from '../runtime.js';
import { editionInfo } from '../service/rules.js';
import { services } from '../service/tables.js';
import { restoreDrillSchedules, restoreDrills } from './tables.js';

export type DrillRow = typeof restoreDrills.$inferSelect;
export type DrillScheduleRow = typeof restoreDrillSchedules.$inferSelect;

/** How long a drill waits for its scratch restore before it fails. */
const RESTORE_TIMEOUT_MS = 30 * 60_000;
/** A drill still RUNNING after this was cut short by a server that stopped: it no longer holds off the next. */
const INTERRUPTED_AFTER_MS = RESTORE_TIMEOUT_MS + 5 * 60_000;

/** Creates or replaces the restore drill schedule of a service (not DELETED, with an edition that has backups). */
export async function setRestoreDrill(
  rt: Runtime,
  input: { serviceId: string; cron: string; enabled?: boolean | null },
): Promise<DrillScheduleRow> {
  const next = nextRun(input.cron);
  const enabled = input.enabled ?? true;
  return rt.database.db.transaction(async (tx) => {
    const [service] = await tx.select().from(services).where(eq(services.id, input.serviceId)).for('update');
    if (!service) throw new NotFoundError('Service', input.serviceId);
    if (service.state === 'DELETED')
      throw new InvalidStateError(`Service "${service.name}" is DELETED; its backups cannot be drilled`, service.state);
    if (!editionInfo(service.edition).backupRestore) throw new EditionWithoutBackupError(service.edition);
    checkScheduleInterval(input.cron, service.edition, rt.config.limits.scheduleMinIntervalSeconds);
    const values = { cron: input.cron.trim(), enabled, nextRunAt: enabled ? next : null, updatedAt: new Date() };
    const [row] = await tx
      .insert(restoreDrillSchedules)
      .values({ serviceId: service.id, ...values })
      .onConflictDoUpdate({ target: restoreDrillSchedules.serviceId, set: values })
      .returning();
    return row!;
  });
}

/** Starts every due drill once across instances (a compare-and-set claim of its slot, as backup schedules do). */
export async function runDueDrills(rt: Runtime, now = new Date()): Promise<number> {
  return startDueSlots<DrillScheduleRow>(rt.database.db, restoreDrillSchedules, now, nextRun, (schedule) =>
    rt.background.run(`restore drill of ${schedule.serviceId}`, () => runDrill(rt, schedule.serviceId).then(() => {})),
  );
}

/**
 * One drill: restores the service's latest SUCCEEDED backup into a scratch service (SUSPENDED, so it
 * never runs: no FTP pulls), compares it with the backup item by item, removes it, and records the
 * result. A failed drill publishes restoreDrillFailed. Skipped (null) while a drill of the service runs.
 */
export async function runDrill(rt: Runtime, serviceId: string): Promise<DrillRow | null> {
  const { db } = rt.database;
  const started = Date.now();
  const [running] = await db
    .select()
    .from(restoreDrills)
    .where(and(eq(restoreDrills.serviceId, serviceId), eq(restoreDrills.status, 'RUNNING')));
  if (running && started - running.startedAt.getTime() < INTERRUPTED_AFTER_MS) return null;
  if (running) await endInterrupted(rt, running);
  const [backup] = await db
    .select()
    .from(backups)
    .where(and(eq(backups.serviceId, serviceId), eq(backups.status, 'SUCCEEDED')))
    .orderBy(desc(backups.createdAt))
    .limit(1);
  const [drill] = await db
    .insert(restoreDrills)
    .values({ serviceId, backupId: backup?.id ?? null, status: 'RUNNING' })
    .returning();
  const end = (outcome: Partial<DrillRow> & { status: 'PASSED' | 'FAILED' }) =>
    db.transaction(async (tx) => {
      const [row] = await tx
        .update(restoreDrills)
        .set({ ...outcome, finishedAt: new Date(), durationMs: Date.now() - started })
        .where(eq(restoreDrills.id, drill!.id))
        .returning();
      if (outcome.status === 'FAILED')
        await publishOnCommit(tx, 'restoreDrillFailed', { drillId: row!.id, serviceId, at: new Date().toISOString() });
      return row!;
    });
  if (!backup) return end({ status: 'FAILED', failureReason: 'The service has no SUCCEEDED backup to restore' });
  let planId: string | null = null;
  try {
    const plan = await createRestorePlan(rt, {
      backupId: backup.id,
      targetName: `drill-${drill!.id.slice(0, 8)}`,
      controlNumberPolicy: 'RESTORE_FROM_BACKUP', // the backup's numbers: what is compared is what was kept
    });
    planId = plan.id;
    await db.update(restoreDrills).set({ planId }).where(eq(restoreDrills.id, drill!.id));
    const blocking = blockers(plan.checks);
    if (blocking.length) {
      await cancelRestorePlan(rt, plan.id);
      const list = blocking.map((b) => `${b.code}: ${b.message}`).join(' | ');
      return end({ status: 'FAILED', failureReason: `The backup cannot be restored: ${list}` });
    }
    await executeRestorePlan(rt, plan.id);
    const restored = await restoreEnded(rt, plan.id);
    if (restored.state !== 'SUSPENDED')
      return end({ status: 'FAILED', failureReason: `The restore ${restored.state}: ${restored.failureReason}` });
    const diff = await diffFromService(rt, backup.id, restored.serviceId!);
    await discardRestoredService(rt, plan.id, 'Restore drill: compared with its backup, then removed');
    if (diff.categories.length === 0) return end({ status: 'PASSED' });
    return end({
      status: 'FAILED',
      differences: diff.categories,
      failureReason: `The restored service differs from the backup in ${diff.categories.map((c) => c.category).join(', ')}`,
    });
  } catch (error) {
    if (!(error instanceof DomainError)) rt.log.error({ serviceId, ...describeError(error) }, 'restore drill failed');
    if (planId)
      await discardRestoredService(rt, planId, 'Restore drill failed; its scratch service was removed').catch(() => {});
    const reason = error instanceof DomainError ? error.message : 'internal error; see the server log';
    return end({ status: 'FAILED', failureReason: reason });
  }
}

/** Ends a drill cut short by a server that stopped, and removes its scratch service if its restore finished since. */
async function endInterrupted(rt: Runtime, drill: DrillRow): Promise<void> {
  const [plan] = drill.planId
    ? await rt.database.db.select().from(restorePlans).where(eq(restorePlans.id, drill.planId))
    : [];
  if (plan?.state === 'SUSPENDED')
    await discardRestoredService(rt, plan.id, 'Restore drill interrupted; its scratch service was removed');
  await rt.database.db
    .update(restoreDrills)
    .set({ status: 'FAILED', failureReason: 'Interrupted: the server running it stopped', finishedAt: new Date() })
    .where(and(eq(restoreDrills.id, drill.id), eq(restoreDrills.status, 'RUNNING')));
}

/** Waits until the drill's restore is SUSPENDED, FAILED or CANCELLED. */
async function restoreEnded(rt: Runtime, planId: string) {
  const deadline = Date.now() + RESTORE_TIMEOUT_MS;
  for (;;) {
    const [plan] = await rt.database.db.select().from(restorePlans).where(eq(restorePlans.id, planId));
    if (plan && ['SUSPENDED', 'FAILED', 'CANCELLED'].includes(plan.state)) return plan;
    if (Date.now() > deadline || rt.background.stopping)
      return { ...plan!, state: 'FAILED' as const, failureReason: 'did not finish in time' };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
