import { and, asc, count, eq, inArray, isNull, lt, or } from 'drizzle-orm';
import { agreements, hybridConnections } from '../artifact/tables.js';
import { batchMessages } from '../edi/tables.js';
import { InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { publishOnCommit } from '../events/bus.js';
import type { Runtime } from '../runtime.js';
import { assertAllowed, editionInfo } from '../service/rules.js';
import type { Tx } from '../db/query.js';
import { services } from '../service/tables.js';
import { randomBytes } from 'node:crypto';
import { writeContent } from './content.js';
import {
  ActiveBatchMessagesError,
  EditionWithoutBackupError,
  batchLossWarning,
  defaultBackupName,
  exclusions,
  type BackupStatus,
  type ItemCount,
} from './rules.js';
import { restorePlans } from '../restore/tables.js';
import { FORMAT_VERSION } from './format.js';
import { snapshot } from './snapshot.js';
import { describeError } from '../log.js';
import { isContentDamage } from './content.js';
import { assertUnlocked, isLockGuardRefusal } from './lock.js';
import { backupPrefix, encodeManifest, manifestKey } from './manifest.js';
import { type ObjectStore, StoreUnavailableError } from './object-store.js';
import { chunkWriter, deleteBackupObjects, readBackup, storeOf } from './objects.js';
import { storeForBackup } from './store-service.js';
import { backups } from './tables.js';

export type BackupRow = typeof backups.$inferSelect;

/** A backup whose heartbeat is older than this was abandoned by an instance that died. */
const STALE_MS = 90_000;
const HEARTBEAT_MS = 20_000;

/** Messages waiting in the batches of a service's agreements. */
export async function activeBatches(db: Pick<Tx, 'select'>, serviceId: string) {
  return db
    .select({ agreementId: agreements.id, agreementName: agreements.name, messageCount: count(batchMessages.id) })
    .from(batchMessages)
    .innerJoin(agreements, eq(agreements.id, batchMessages.agreementId))
    .where(eq(agreements.serviceId, serviceId))
    .groupBy(agreements.id, agreements.name)
    .orderBy(asc(agreements.name));
}

/**
 * Moves a backup from `previousStatus` to `status` and publishes the change, both or neither. A
 * backup no longer in `previousStatus` is left as it is (another instance declared it interrupted,
 * or a verification already marked it CORRUPT) and returned as it now is.
 */
async function setStatus(
  rt: Runtime,
  backupId: string,
  previousStatus: BackupStatus,
  status: BackupStatus,
  extra: Partial<BackupRow> = {},
): Promise<BackupRow> {
  return rt.database.db.transaction(async (tx) => {
    const [row] = await tx
      .update(backups)
      .set({ status, ...extra })
      .where(and(eq(backups.id, backupId), eq(backups.status, previousStatus)))
      .returning();
    if (row) {
      await publish(tx, row, previousStatus);
      return row;
    }
    const [now] = await tx.select().from(backups).where(eq(backups.id, backupId));
    if (!now) throw new NotFoundError('Backup', backupId);
    return now;
  });
}

/** Publishes a backup's status change when, and only if, the transaction that makes it commits. */
function publish(tx: Tx, row: BackupRow, previousStatus: BackupStatus | null) {
  return publishOnCommit(tx, 'backupStatusChanged', {
    backupId: row.id,
    serviceId: row.serviceId,
    previousStatus,
    status: row.status,
    at: new Date().toISOString(),
  });
}

export interface CreateBackupOptions {
  serviceId: string;
  label?: string | null;
  allowBatchMessageLoss?: boolean | null;
  kind?: 'ON_DEMAND' | 'SCHEDULED';
  /** Lock the new backup for this many days (its schedule's lockDays). */
  lockDays?: number | null;
  /** Where it goes; else the service's schedule's store, else the deployment's default store. */
  storeId?: string | null;
  /** Its name in the store (validated by validateBackupName); else `<service>-<yyyyMMdd>-<HHmmss>`. */
  backupName?: string | null;
}

/**
 * Checks that the service can be backed up now and records a PENDING backup; the snapshot runs as
 * background work (see runBackup) and the caller gets the backup at once.
 */
export async function createBackup(rt: Runtime, options: CreateBackupOptions): Promise<BackupRow> {
  return (await startBackup(rt, options)).backup;
}

/** createBackup, also handing back the promise of the finished backup (for the scheduler). */
export async function startBackup(
  rt: Runtime,
  options: CreateBackupOptions,
): Promise<{ backup: BackupRow; done: Promise<BackupRow> }> {
  const row = await rt.database.db.transaction(async (tx) => {
    const [service] = await tx.select().from(services).where(eq(services.id, options.serviceId));
    if (!service) throw new NotFoundError('Service', options.serviceId);
    if (!editionInfo(service.edition).backupRestore) throw new EditionWithoutBackupError(service.edition);
    assertAllowed('backup', service.state, service.name);
    const batches = await activeBatches(tx, service.id);
    if (batches.length && !options.allowBatchMessageLoss) throw new ActiveBatchMessagesError(batches);
    const store = await storeForBackup(tx, service.id, options.storeId);
    const taken = async (name: string) =>
      (await tx.$count(backups, and(eq(backups.storeId, store.id), eq(backups.backupName, name)))) > 0;
    let backupName = options.backupName ?? defaultBackupName(service.name, new Date());
    if (await taken(backupName)) {
      if (options.backupName)
        throw ValidationError.field(
          ['input', 'backupName'],
          `store "${store.name}" already holds a backup of this name`,
        );
      backupName = defaultBackupName(service.name, new Date(), randomBytes(2).toString('hex'));
    }
    const [created] = await tx
      .insert(backups)
      .values({
        serviceId: service.id,
        storeId: store.id,
        backupName,
        serviceName: service.name,
        edition: service.edition,
        region: service.region,
        kind: options.kind ?? 'ON_DEMAND',
        status: 'PENDING',
        label: options.label ?? null,
        allowBatchMessageLoss: options.allowBatchMessageLoss ?? false,
        formatVersion: FORMAT_VERSION,
        heartbeatAt: new Date(),
        ...(options.lockDays
          ? {
              lockedUntil: new Date(Date.now() + options.lockDays * 86_400_000),
              lockReason: `Locked by its backup schedule for ${options.lockDays} day(s)`,
              lockedBy: 'backup schedule',
            }
          : {}),
      })
      .returning();
    await publish(tx, created!, null);
    return created!;
  });
  const done = runBackup(rt, row);
  rt.background.run(`backup ${row.id}`, () => done.then(() => undefined));
  return { backup: row, done };
}

/** Takes the snapshot of a PENDING backup: one repeatable-read transaction, streamed into the store. */
export async function runBackup(rt: Runtime, pending: BackupRow): Promise<BackupRow> {
  const { db } = rt.database;
  const running = await setStatus(rt, pending.id, 'PENDING', 'RUNNING', {
    startedAt: new Date(),
    heartbeatAt: new Date(),
  });
  if (running.status !== 'RUNNING') return running;
  const heartbeat = setInterval(
    () =>
      void db
        .update(backups)
        .set({ heartbeatAt: new Date() })
        .where(eq(backups.id, pending.id))
        .catch(() => {}),
    HEARTBEAT_MS,
  );
  const prefix = backupPrefix(running.backupName!);
  let store: ObjectStore | null = null;
  let wrote = false;
  const fail = async (failureReason: string) => {
    // No partial objects left behind (nothing was written if the name was already in use).
    if (wrote && store)
      await store
        .deletePrefix(prefix)
        .catch((error) =>
          rt.log.warn({ backupId: pending.id, ...describeError(error) }, 'partial backup objects left'),
        );
    return setStatus(rt, pending.id, 'RUNNING', 'FAILED', {
      failureReason,
      completedAt: new Date(),
      heartbeatAt: null,
    });
  };
  try {
    store = await storeOf(rt, running);
    if (!store) throw new Error('a new backup always has a store');
    if ((await store.list(prefix)).length)
      return await fail(`Store "${store.name}" already holds objects under ${prefix} (written by another deployment?)`);
    const writer = chunkWriter(store, running.backupName!);
    wrote = true;
    // One repeatable-read transaction is the moment the backup shows; its chunks go to the store as they come.
    const outcome = await db.transaction(
      async (tx) => {
        const counts: ItemCount[] = [];
        const hybrid = await tx
          .select({ name: hybridConnections.name })
          .from(hybridConnections)
          .where(eq(hybridConnections.serviceId, pending.serviceId!))
          .orderBy(asc(hybridConnections.name));
        const batches = await activeBatches(tx, pending.serviceId!);
        const lost = batches.reduce((n, b) => n + b.messageCount, 0);
        if (lost > 0 && !pending.allowBatchMessageLoss) return { refused: new ActiveBatchMessagesError(batches) };
        const written = await writeContent(
          writer.put,
          rt.secrets,
          pending.id,
          snapshot(tx, pending.serviceId!, counts),
        );
        return {
          ...written,
          itemCounts: counts,
          excluded: exclusions(hybrid.map((h) => h.name)),
          hybridConnectionNames: hybrid.map((h) => h.name),
          warnings: lost > 0 ? [batchLossWarning(lost)] : [],
        };
      },
      { isolationLevel: 'repeatable read' },
    );
    if ('refused' in outcome)
      return await fail(`Messages arrived in batches after the backup was asked for: ${outcome.refused!.message}`);
    const completedAt = new Date();
    await store.put(
      manifestKey(running.backupName!),
      encodeManifest(rt.secrets, {
        formatVersion: running.formatVersion,
        backupId: running.id,
        backupName: running.backupName!,
        kind: running.kind,
        label: running.label,
        service: { id: running.serviceId, name: running.serviceName, edition: running.edition, region: running.region },
        createdAt: running.createdAt.toISOString(),
        completedAt: completedAt.toISOString(),
        sizeBytes: outcome.sizeBytes,
        storedBytes: outcome.storedBytes,
        checksum: outcome.checksum,
        itemCounts: outcome.itemCounts,
        excluded: outcome.excluded,
        hybridConnectionNames: outcome.hybridConnectionNames,
        warnings: outcome.warnings,
        allowBatchMessageLoss: running.allowBatchMessageLoss,
        chunks: writer.chunks,
      }),
    );
    if (running.lockedUntil) await store.lock(prefix, running.lockedUntil);
    const done = await setStatus(rt, pending.id, 'RUNNING', 'SUCCEEDED', {
      ...outcome,
      completedAt,
      heartbeatAt: null,
    });
    // Declared interrupted meanwhile (its heartbeat came too late): a FAILED backup keeps no content.
    if (done.status !== 'SUCCEEDED') await store.deletePrefix(prefix).catch(() => {});
    return done;
  } catch (error) {
    rt.log.error({ backupId: pending.id, ...describeError(error) }, 'backup failed');
    return fail(
      error instanceof StoreUnavailableError
        ? `The backup could not be written: ${error.message}`
        : 'The snapshot could not be written; see the server log',
    );
  } finally {
    clearInterval(heartbeat);
  }
}

/**
 * Backups left PENDING or RUNNING by an instance that stopped: on the embedded database (one
 * process) all of them, on PostgreSQL those whose heartbeat went stale.
 */
export async function failInterruptedBackups(rt: Runtime, all: boolean): Promise<number> {
  const stale = new Date(Date.now() - STALE_MS);
  return rt.database.db.transaction(async (tx) => {
    const rows = await tx
      .update(backups)
      .set({
        status: 'FAILED',
        failureReason: 'Interrupted: the server running it stopped',
        completedAt: new Date(),
        heartbeatAt: null,
      })
      .where(
        and(
          inArray(backups.status, ['PENDING', 'RUNNING']),
          all ? undefined : or(isNull(backups.heartbeatAt), lt(backups.heartbeatAt, stale)),
        ),
      )
      .returning();
    for (const row of rows) await publish(tx, row, 'RUNNING');
    return rows.length;
  });
}

/** Re-reads, decrypts and re-checksums a backup; any mismatch marks it CORRUPT for good. */
export async function verifyBackup(rt: Runtime, backupId: string): Promise<BackupRow> {
  const { db } = rt.database;
  const [backup] = await db.select().from(backups).where(eq(backups.id, backupId));
  if (!backup) throw new NotFoundError('Backup', backupId);
  if (backup.status !== 'SUCCEEDED' && backup.status !== 'CORRUPT') {
    throw new InvalidStateError(`Backup is ${backup.status}; only a finished backup can be verified`, backup.status);
  }
  let intact = false;
  try {
    const lines = readBackup(rt, backup);
    for await (const _line of lines);
    intact = lines.checksum() === backup.checksum && lines.size() === backup.sizeBytes;
  } catch (error) {
    if (!isContentDamage(error)) throw error; // a database error says nothing about the backup
    intact = false;
  }
  if (intact && backup.status === 'SUCCEEDED') {
    const [row] = await db.update(backups).set({ verifiedAt: new Date() }).where(eq(backups.id, backupId)).returning();
    return row!;
  }
  if (backup.status === 'CORRUPT') return backup;
  return markCorrupt(rt, backupId);
}

/** A backup whose content does not match its checksum can never be restored. */
export async function markCorrupt(rt: Runtime, backupId: string): Promise<BackupRow> {
  return setStatus(rt, backupId, 'SUCCEEDED', 'CORRUPT', {
    verifiedAt: new Date(),
    failureReason: 'Verification failed: the stored content does not match its checksum',
  });
}

export async function pinBackup(rt: Runtime, backupId: string, pinned: boolean): Promise<BackupRow> {
  const [row] = await rt.database.db.update(backups).set({ pinned }).where(eq(backups.id, backupId)).returning();
  if (!row) throw new NotFoundError('Backup', backupId);
  return row;
}

/** Deletes a backup and its content; refused while locked, pinned, running or used by a restore. */
export async function deleteBackup(rt: Runtime, backupId: string): Promise<BackupRow> {
  return rt.database.db
    .transaction(async (tx) => {
      const [backup] = await tx.select().from(backups).where(eq(backups.id, backupId)).for('update');
      if (!backup) throw new NotFoundError('Backup', backupId);
      assertUnlocked(backup);
      if (backup.pinned)
        throw new InvalidStateError('The backup is pinned; unpin it first (pinBackup with pinned: false)', 'PINNED');
      if (backup.status === 'PENDING' || backup.status === 'RUNNING')
        throw new InvalidStateError(`The backup is ${backup.status}; wait for it to finish`, backup.status);
      const [inUse] = await tx
        .select({ state: restorePlans.state })
        .from(restorePlans)
        .where(and(eq(restorePlans.backupId, backupId), inArray(restorePlans.state, ['PLANNED', 'RESTORING'])))
        .limit(1);
      if (inUse?.state === 'RESTORING')
        throw new InvalidStateError('A restore from this backup is running; wait for it to finish', 'IN_USE');
      if (inUse)
        throw new InvalidStateError('A PLANNED restore plan uses this backup; execute or cancel it first', 'IN_USE');
      // Finished plans keep their history; their link to the backup is cleared (ON DELETE SET NULL).
      await tx.delete(backups).where(eq(backups.id, backupId));
      // Inside the transaction: a store that cannot delete them now leaves the backup as it was.
      await deleteBackupObjects(rt, backup, tx);
      return backup;
    })
    .catch(async (error) => {
      if (!isLockGuardRefusal(error)) throw error;
      // Locked since it was read here: the database's guard refused; say so as the check above would.
      const [locked] = await rt.database.db.select().from(backups).where(eq(backups.id, backupId));
      if (!locked) throw error;
      assertUnlocked(locked);
      throw error;
    });
}
