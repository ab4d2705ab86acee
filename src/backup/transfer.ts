import { and, eq, inArray } from 'drizzle-orm';
import { InvalidStateError, NotFoundError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { services } from '../service/tables.js';
import { isContentDamage } from './content.js';
import { backupPrefix, decodeManifest, manifestKey } from './manifest.js';
import { readBackup, readManifest, storeOf } from './objects.js';
import type { BackupRow } from './service.js';
import { storeById } from './store-service.js';
import { backups } from './tables.js';

const MANIFEST = /^([a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62})\/manifest\.json$/;

/** At most this many characters of what an unauthenticated manifest claims are kept (it is untrusted). */
const claim = (value: unknown, fallback: string) =>
  typeof value === 'string' && value.length > 0 ? value.slice(0, 100) : fallback;

/**
 * Registers the backups a store holds that this deployment does not know (after losing the database,
 * or to restore another deployment's backups): readable ones as SUCCEEDED backups, ones whose
 * manifest does not authenticate under this ENCRYPTION_KEY as UNREADABLE, with the reason.
 */
export async function importBackups(rt: Runtime, storeId: string): Promise<BackupRow[]> {
  const { db } = rt.database;
  const row = await storeById(db, storeId);
  const store = await rt.backupStores.open(row);
  const names = (await store.list(''))
    .map((o) => MANIFEST.exec(o.key)?.[1])
    .filter((name): name is string => name !== undefined);
  if (!names.length) return [];
  const known = new Set(
    (
      await db
        .select({ name: backups.backupName })
        .from(backups)
        .where(and(eq(backups.storeId, storeId), inArray(backups.backupName, names)))
    ).map((b) => b.name),
  );
  const imported: BackupRow[] = [];
  for (const backupName of names.filter((n) => !known.has(n))) {
    const decoded = decodeManifest(rt.secrets, await store.get(manifestKey(backupName)));
    if (!decoded.readable || decoded.manifest.backupName !== backupName) {
      const claimed = decoded.readable ? decoded.manifest : decoded.claimed;
      const reason = decoded.readable ? `The manifest under ${backupName} names another backup` : decoded.reason;
      const [unreadable] = await db
        .insert(backups)
        .values({
          storeId,
          backupName,
          serviceName: claim(claimed.service?.name, '(unknown)'),
          edition: claim(claimed.service?.edition, '(unknown)'),
          region: claim(claimed.service?.region, '(unknown)'),
          kind: 'ON_DEMAND',
          status: 'UNREADABLE',
          formatVersion: typeof claimed.formatVersion === 'number' ? claimed.formatVersion : 0,
          failureReason: reason,
          completedAt: null,
        })
        .onConflictDoNothing()
        .returning();
      if (unreadable) imported.push(unreadable);
      continue;
    }
    const { manifest } = decoded;
    // The source service is linked only if this deployment has it (it may be another deployment's).
    const [source] = manifest.service.id
      ? await db.select({ id: services.id }).from(services).where(eq(services.id, manifest.service.id))
      : [];
    const [added] = await db
      .insert(backups)
      .values({
        serviceId: source?.id ?? null,
        storeId,
        backupName,
        serviceName: manifest.service.name,
        edition: manifest.service.edition,
        region: manifest.service.region,
        kind: manifest.kind,
        status: 'SUCCEEDED',
        label: manifest.label,
        allowBatchMessageLoss: manifest.allowBatchMessageLoss,
        formatVersion: manifest.formatVersion,
        sizeBytes: manifest.sizeBytes,
        storedBytes: manifest.storedBytes,
        checksum: manifest.checksum,
        itemCounts: manifest.itemCounts,
        excluded: manifest.excluded,
        hybridConnectionNames: manifest.hybridConnectionNames,
        warnings: manifest.warnings,
        createdAt: new Date(manifest.createdAt),
        completedAt: new Date(manifest.completedAt),
      })
      .onConflictDoNothing()
      .returning();
    if (added) imported.push(added);
  }
  return imported;
}

/**
 * Copies a backup's objects into another store (another region, another account) and verifies the
 * copy by reading it back whole; the copy is a backup of its own, with the same content.
 */
export async function copyBackup(rt: Runtime, backupId: string, targetStoreId: string): Promise<BackupRow> {
  const { db } = rt.database;
  const [backup] = await db.select().from(backups).where(eq(backups.id, backupId));
  if (!backup) throw new NotFoundError('Backup', backupId);
  if (backup.status !== 'SUCCEEDED')
    throw new InvalidStateError(`The backup is ${backup.status}; only a SUCCEEDED backup can be copied`, backup.status);
  const source = await storeOf(rt, backup);
  if (!source)
    throw new InvalidStateError(
      'The backup was taken before backup stores existed (it lives in the database); take a new backup to copy',
      'IN_DATABASE',
    );
  if (backup.storeId === targetStoreId)
    throw new InvalidStateError('The backup already lives in that store; name another store', 'SAME_STORE');
  const targetRow = await storeById(db, targetStoreId);
  const target = await rt.backupStores.open(targetRow);
  // A copy keeps its name: the manifest is signed with it.
  const name = backup.backupName!;
  const taken = await db.$count(backups, and(eq(backups.storeId, targetStoreId), eq(backups.backupName, name)));
  if (taken || (await target.list(backupPrefix(name))).length)
    throw new InvalidStateError(`Store "${targetRow.name}" already holds a backup named ${name}`, 'NAME_IN_USE');
  const manifest = await readManifest(rt, source, backup.backupName!);
  try {
    for (const chunk of manifest.chunks) await target.put(chunk.key, await source.get(chunk.key));
    await target.put(manifestKey(name), await source.get(manifestKey(name)));
  } catch (error) {
    await target.deletePrefix(backupPrefix(name)).catch(() => {});
    throw error;
  }
  const [copy] = await db
    .insert(backups)
    .values({
      ...backup,
      id: undefined,
      storeId: targetStoreId,
      backupName: name,
      pinned: false,
      lockedUntil: null,
      lockReason: null,
      lockedBy: null,
      heartbeatAt: null,
      verifiedAt: null,
      createdAt: new Date(),
    })
    .returning();
  // Verified by reading it back from the target, as a restore would.
  let intact = false;
  try {
    const lines = readBackup(rt, copy!);
    for await (const _line of lines);
    intact = lines.checksum() === copy!.checksum && lines.size() === copy!.sizeBytes;
  } catch (error) {
    if (!isContentDamage(error)) {
      await db.delete(backups).where(eq(backups.id, copy!.id));
      await target.deletePrefix(backupPrefix(name)).catch(() => {});
      throw error;
    }
  }
  if (!intact) {
    await db.delete(backups).where(eq(backups.id, copy!.id));
    await target.deletePrefix(backupPrefix(name)).catch(() => {});
    throw new InvalidStateError(
      'The copy did not read back intact from the target store; nothing was kept',
      'COPY_DAMAGED',
    );
  }
  const [verified] = await db
    .update(backups)
    .set({ verifiedAt: new Date() })
    .where(eq(backups.id, copy!.id))
    .returning();
  return verified!;
}
