import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { agreements } from '../artifact/tables.js';
import { isContentDamage, readLines } from '../backup/content.js';
import { itemData, parseLine } from '../backup/format.js';
import { markCorrupt } from '../backup/service.js';
import { postgresBackupStore } from '../backup/store.js';
import { backupManifests, backups } from '../backup/tables.js';
import { controlNumberHighWater } from '../edi/tables.js';
import { InvalidStateError, NameUnavailableError, NotFoundError, isUniqueViolation } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { validateName, validateRegion, type Edition } from '../service/rules.js';
import { notifyOnCommit, publishOnCommit } from '../events/bus.js';
import { nameAvailability, type Tx } from '../service/service.js';
import { services } from '../service/tables.js';
import { PlanBlockedError, blockers, planChecks, type ControlNumberPolicy, type RestoreProgress, type RestoreState } from './rules.js';
import { restoreEvents, restorePlans } from './tables.js';

export type PlanRow = typeof restorePlans.$inferSelect;
export const LEASE_MS = 15_000;

/** What a backup holds that the checks need. */
export type BackupInspection = { intact: boolean } & Pick<typeof backupManifests.$inferSelect, 'agreements' | 'hasArchiving'>;

/**
 * What the checks need from a backup's content. `verify`: read (and checksum) the whole content, as
 * planning does, and keep what it found as the backup's manifest. Otherwise the manifest of an
 * earlier read is used when there is one: re-validating a plan at execution does not read a large
 * backup again (the restore checksums the content as it reads it, and rolls back on a mismatch).
 */
export async function inspectBackup(rt: Runtime, backup: typeof backups.$inferSelect, verify: boolean): Promise<BackupInspection> {
  const found: BackupInspection = { intact: false, agreements: [], hasArchiving: false };
  if (backup.status !== 'SUCCEEDED') return found;
  const { db } = rt.database;
  if (!verify) {
    const [manifest] = await db.select().from(backupManifests).where(eq(backupManifests.backupId, backup.id));
    if (manifest) return { intact: true, agreements: manifest.agreements, hasArchiving: manifest.hasArchiving };
  }
  const interchange = new Map<string, number>();
  try {
    const lines = readLines(rt.database, postgresBackupStore, rt.secrets, backup.id);
    for await (const text of lines) {
      const line = parseLine(text);
      if (line.type !== 'item') continue;
      if (line.category === 'AGREEMENTS') {
        const { id, name, lineageId, sourceFtpFolder } = itemData('AGREEMENTS', line.data);
        found.agreements.push({ id, name, lineageId, sourceFtpFolder, interchange: 0 });
      } else if (line.category === 'CONTROL_NUMBERS') {
        const { agreementId, interchange: position } = itemData('CONTROL_NUMBERS', line.data);
        interchange.set(agreementId, position);
      } else if (line.category === 'SERVICE_SETTINGS') {
        found.hasArchiving = itemData('SERVICE_SETTINGS', line.data).secrets.some((s) => s.kind === 'ARCHIVING_STORAGE_CONNECTION_STRING');
      }
    }
    found.intact = lines.checksum() === backup.checksum && lines.size() === backup.sizeBytes;
  } catch (error) {
    if (!isContentDamage(error)) throw error; // a database error says nothing about the backup
    found.intact = false;
  }
  if (!found.intact) {
    await markCorrupt(rt, backup.id);
    return found;
  }
  for (const a of found.agreements) a.interchange = interchange.get(a.id) ?? 0;
  await db.insert(backupManifests).values({ backupId: backup.id, agreements: found.agreements, hasArchiving: found.hasArchiving }).onConflictDoNothing();
  return found;
}

export interface PlanInput {
  backupId: string;
  targetName: string;
  targetEdition?: Edition | null;
  targetRegion?: string | null;
  controlNumberPolicy?: ControlNumberPolicy | null;
}

/** Gathers the facts and computes every check of a plan. */
async function check(rt: Runtime, backup: typeof backups.$inferSelect, target: { name: string; edition: Edition; policy: ControlNumberPolicy }, verify: boolean) {
  const { db } = rt.database;
  const inspection = await inspectBackup(rt, backup, verify);
  const availability = await nameAvailability(rt, db, target.name);
  const lineages = inspection.agreements.map((a) => a.lineageId);
  const highWater = lineages.length
    ? await db.select({ lineageId: controlNumberHighWater.lineageId, interchange: controlNumberHighWater.interchange }).from(controlNumberHighWater).where(inArray(controlNumberHighWater.lineageId, lineages))
    : [];
  const issued = new Map(highWater.map((h) => [h.lineageId, h.interchange]));
  const drift = inspection.agreements
    .map((a) => ({ agreementName: a.name, issuedSince: (issued.get(a.lineageId) ?? 0) - a.interchange }))
    .filter((d) => d.issuedSince > 0);
  const folders = [...new Set(inspection.agreements.map((a) => a.sourceFtpFolder).filter((f): f is string => !!f))];
  const others = folders.length
    ? await db
        .select({ folder: agreements.sourceFtpFolder, otherAgreement: agreements.name, otherService: services.name })
        .from(agreements)
        .innerJoin(services, eq(services.id, agreements.serviceId))
        .where(and(inArray(agreements.sourceFtpFolder, folders), ne(services.state, 'DELETED')))
    : [];
  const byFolder = new Map<string | null, typeof others>();
  for (const o of others) {
    const list = byFolder.get(o.folder);
    if (list) list.push(o);
    else byFolder.set(o.folder, [o]);
  }
  const ftpConflicts = inspection.agreements.flatMap((a) =>
    (byFolder.get(a.sourceFtpFolder) ?? []).map((o) => ({ agreementName: a.name, folder: a.sourceFtpFolder!, otherService: o.otherService, otherAgreement: o.otherAgreement })),
  );
  const [source] = await db.select({ state: services.state }).from(services).where(eq(services.id, backup.serviceId));
  return planChecks({
    backup: {
      status: backup.status,
      edition: backup.edition as Edition,
      intact: inspection.intact,
      warnings: backup.warnings,
      hybridConnectionNames: backup.hybridConnectionNames,
      serviceName: backup.serviceName,
      sourceServiceLive: !!source && source.state !== 'DELETED',
    },
    targetName: target.name,
    targetEdition: target.edition,
    policy: target.policy,
    nameHolder: availability.holderState ? { state: availability.holderState } : null,
    nameFreeAt: availability.available ? null : availability.availableAt,
    drift,
    ftpConflicts,
    archivingLost: inspection.hasArchiving && !['DEVELOPER', 'PREMIUM'].includes(target.edition),
  });
}

/** Appends an event to a plan's history (the caller holds the plan row lock), published when the transaction commits. */
export async function appendEvent(tx: Tx, planId: string, state: RestoreState, previousState: RestoreState | null, message: string, progress: RestoreProgress | null = null): Promise<void> {
  const insert = tx
    .insert(restoreEvents)
    .values({
      planId,
      sequence: sql`(select coalesce(max(${restoreEvents.sequence}), 0) + 1 from ${restoreEvents} where ${restoreEvents.planId} = ${planId})`,
      state,
      previousState,
      message,
      progress,
    })
    .returning({ sequence: restoreEvents.sequence });
  // Recorded and published in one statement.
  await tx.execute(sql`with e as (${insert.getSQL()}) select ${notifyOnCommit('restoreProgress', planId, sql`json_build_object('planId', ${planId}::text, 'sequence', e.sequence)`)} from e`);
}

export async function lockPlan(tx: Tx, planId: string): Promise<PlanRow> {
  const [plan] = await tx.select().from(restorePlans).where(eq(restorePlans.id, planId)).for('update');
  if (!plan) throw new NotFoundError('RestorePlan', planId);
  return plan;
}

export async function createRestorePlan(rt: Runtime, input: PlanInput): Promise<PlanRow> {
  validateName(input.targetName, ['input', 'targetName']);
  const [backup] = await rt.database.db.select().from(backups).where(eq(backups.id, input.backupId));
  if (!backup) throw new NotFoundError('Backup', input.backupId);
  const targetRegion = input.targetRegion ?? backup.region;
  validateRegion(targetRegion, ['input', 'targetRegion']);
  const target = { name: input.targetName, edition: (input.targetEdition ?? backup.edition) as Edition, policy: input.controlNumberPolicy ?? 'ADVANCE_PAST_ISSUED' };
  const checks = await check(rt, backup, target, true);
  const found = blockers(checks).length;
  return rt.database.db.transaction(async (tx) => {
    const [plan] = await tx
      .insert(restorePlans)
      .values({ backupId: backup.id, targetName: target.name, targetEdition: target.edition, targetRegion, controlNumberPolicy: target.policy, state: 'PLANNED', checks })
      .returning();
    const message = found ? `Planned with ${found} blocker(s): resolve them before executing` : `Planned: ${checks.filter((c) => c.severity === 'WARNING').length} warning(s) to review, no blocker`;
    await appendEvent(tx, plan!.id, 'PLANNED', null, message);
    return plan!;
  });
}

/**
 * Re-validates the plan (things change between planning and executing: names, control numbers
 * issued, FTP folders, the backup's status; its content is not read again), then creates the target
 * service in state RESTORING and starts the restore as durable background work. The live-name
 * unique index makes two plans racing for one name end with one winner.
 */
export async function executeRestorePlan(rt: Runtime, planId: string, start: (plan: PlanRow) => void): Promise<PlanRow> {
  const { db } = rt.database;
  const [existing] = await db.select().from(restorePlans).where(eq(restorePlans.id, planId));
  if (!existing) throw new NotFoundError('RestorePlan', planId);
  if (existing.state !== 'PLANNED') throw new InvalidStateError(`The plan is ${existing.state}; only a PLANNED plan can be executed`, existing.state);
  const [backup] = existing.backupId ? await db.select().from(backups).where(eq(backups.id, existing.backupId)) : [];
  if (!backup) throw new InvalidStateError('The backup of this plan was deleted; plan again from another backup', 'NO_BACKUP');
  const checks = await check(rt, backup, { name: existing.targetName, edition: existing.targetEdition as Edition, policy: existing.controlNumberPolicy }, false);
  const blocking = blockers(checks);
  if (blocking.length) {
    // A name taken since planning lost a race to another plan or a create: say so, as the unique index would.
    const nameCodes = ['NAME_IN_USE', 'NAME_ON_HOLD'];
    const raced = blocking.every((b) => nameCodes.includes(b.code)) && !existing.checks.some((c) => nameCodes.includes(c.code));
    if (raced) throw new NameUnavailableError(`Another service took the name "${existing.targetName}" since this plan was made`, existing.targetName, null);
    throw new PlanBlockedError(blocking);
  }
  const restoring = await db
    .transaction(async (tx) => {
      const plan = await lockPlan(tx, planId);
      if (plan.state !== 'PLANNED') throw new InvalidStateError(`The plan is ${plan.state}; only a PLANNED plan can be executed`, plan.state);
      const [service] = await tx
        .insert(services)
        .values({ name: plan.targetName, edition: plan.targetEdition as Edition, region: plan.targetRegion, scaleUnitCount: 1, productVersion: '1.0', state: 'RESTORING' })
        .returning();
      const [updated] = await tx
        .update(restorePlans)
        .set({ state: 'RESTORING', checks, serviceId: service!.id, leaseOwner: rt.instanceId, leaseExpiresAt: new Date(Date.now() + LEASE_MS), attempts: 1, updatedAt: new Date() })
        .where(eq(restorePlans.id, planId))
        .returning();
      await appendEvent(tx, planId, 'RESTORING', 'PLANNED', `Restoring into new service "${plan.targetName}" (${plan.targetEdition}, ${plan.targetRegion})`);
      await publishOnCommit(tx, 'serviceStateChanged', { serviceId: service!.id, previousState: null, state: 'RESTORING', at: service!.createdAt.toISOString() });
      return updated!;
    })
    .catch((error) => {
      if (isUniqueViolation(error)) throw new NameUnavailableError(`Another service took the name "${existing.targetName}" just now`, existing.targetName, null);
      throw error;
    });
  start(restoring);
  return restoring;
}

/** Cancels a plan before or during RESTORING; a started restore is rolled back at once. */
export async function cancelRestorePlan(rt: Runtime, planId: string): Promise<PlanRow> {
  return rt.database.db.transaction(async (tx) => {
    const plan = await lockPlan(tx, planId);
    if (plan.state !== 'PLANNED' && plan.state !== 'RESTORING') throw new InvalidStateError(`The plan is ${plan.state}; only a PLANNED or RESTORING plan can be cancelled`, plan.state);
    if (plan.serviceId) await tx.delete(services).where(eq(services.id, plan.serviceId));
    const [updated] = await tx.update(restorePlans).set({ state: 'CANCELLED', serviceId: null, leaseOwner: null, leaseExpiresAt: null, updatedAt: new Date() }).where(eq(restorePlans.id, planId)).returning();
    const message = plan.state === 'RESTORING' ? `Cancelled; the partly restored service "${plan.targetName}" was removed and its name is free` : 'Cancelled before it started';
    await appendEvent(tx, planId, 'CANCELLED', plan.state, message);
    return updated!;
  });
}
