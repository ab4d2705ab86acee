import { createHash } from 'node:crypto';
import type { Queryable } from '../db/query.js';
import type { Runtime } from '../runtime.js';
import { DamagedContentError, openChunks, readLines } from './content.js';
import { databaseChunks } from './database-chunks.js';
import { backupPrefix, chunkKey, decodeManifest, type Manifest, type ManifestChunk, manifestKey } from './manifest.js';
import type { ObjectStore } from './object-store.js';
import { storeById } from './store-service.js';
import type { backups } from './tables.js';

type BackupRow = typeof backups.$inferSelect;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Chunks fetched ahead of the one being decrypted and decompressed. */
const READ_AHEAD = 3;

/** A backup's store, opened; null for a backup taken before stores existed (content in the database). */
export async function storeOf(
  rt: Runtime,
  backup: BackupRow,
  db: Queryable = rt.database.db,
): Promise<ObjectStore | null> {
  if (!backup.storeId || !backup.backupName) return null;
  return await rt.backupStores.open(await storeById(db, backup.storeId));
}

/** The authenticated manifest of a backup in a store; anything else is damaged content. */
export async function readManifest(rt: Runtime, store: ObjectStore, backupName: string): Promise<Manifest> {
  const decoded = decodeManifest(rt.secrets, await store.get(manifestKey(backupName)));
  if (!decoded.readable) throw new DamagedContentError(`manifest of ${backupName}: ${decoded.reason}`);
  if (decoded.manifest.backupName !== backupName)
    throw new DamagedContentError(`the manifest under ${backupName} belongs to ${decoded.manifest.backupName}`);
  return decoded.manifest;
}

/**
 * The objects of a backup, checked against its manifest: a changed, missing, swapped or extra object
 * is damaged content. Yields the sealed chunks in order, each checked against its SHA-256.
 */
async function* verifiedChunks(store: ObjectStore, backup: BackupRow, manifest: Manifest) {
  if (manifest.checksum !== backup.checksum || manifest.sizeBytes !== backup.sizeBytes)
    throw new DamagedContentError('the manifest does not describe this backup (checksum or size differ)');
  const expected = new Map<string, number>([[manifestKey(manifest.backupName), -1]]);
  for (const chunk of manifest.chunks) expected.set(chunk.key, chunk.size);
  const listed = await store.list(backupPrefix(manifest.backupName));
  for (const object of listed) {
    const size = expected.get(object.key);
    if (size === undefined) throw new DamagedContentError(`unexpected object ${object.key} beside the backup`);
    if (size !== -1 && size !== object.size) throw new DamagedContentError(`object ${object.key} changed size`);
  }
  for (const key of expected.keys())
    if (!listed.some((o) => o.key === key)) throw new DamagedContentError(`object ${key} is missing`);
  const fetches: Promise<Buffer>[] = [];
  const fetch = (i: number) => {
    const chunk = manifest.chunks[i];
    if (!chunk) return;
    const pending = store.get(chunk.key);
    pending.catch(() => {}); // awaited in order below
    fetches.push(pending);
  };
  for (let i = 0; i < READ_AHEAD; i++) fetch(i);
  for (const [i, chunk] of manifest.chunks.entries()) {
    const data = await fetches[i]!;
    fetches[i] = undefined as never; // let it go once read
    fetch(i + READ_AHEAD);
    if (data.length !== chunk.size || sha256(data) !== chunk.sha256)
      throw new DamagedContentError(`object ${chunk.key} changed`);
    yield data;
  }
}

/** A backup's opened chunks, from its store (verified) or, for an old backup, from the database. */
async function* backupChunks(rt: Runtime, backup: BackupRow): AsyncIterable<Buffer> {
  const store = await storeOf(rt, backup);
  if (!store) {
    yield* openChunks(rt.secrets, backup.id, databaseChunks(rt.database, backup.id));
    return;
  }
  const manifest = await readManifest(rt, store, backup.backupName!);
  // Sealed under the id of the backup that wrote them (a copy or an import has its own row id).
  yield* openChunks(rt.secrets, manifest.backupId, verifiedChunks(store, backup, manifest));
}

/** Decrypted, decompressed content lines of a backup; damaged content throws (see isContentDamage). */
export function readBackup(rt: Runtime, backup: BackupRow) {
  return readLines(backupChunks(rt, backup));
}

/** Writes sealed chunks into a store under a backup's name, recording each for the manifest. */
export function chunkWriter(store: ObjectStore, backupName: string) {
  const chunks: ManifestChunk[] = [];
  return {
    chunks,
    put: async (seq: number, sealed: Buffer) => {
      const key = chunkKey(backupName, seq);
      await store.put(key, sealed);
      chunks[seq] = { key, size: sealed.length, sha256: sha256(sealed) };
    },
  };
}

/** Removes a backup's objects from its store (an old backup's chunks go with its row). */
export async function deleteBackupObjects(rt: Runtime, backup: BackupRow, db: Queryable): Promise<void> {
  const store = await storeOf(rt, backup, db);
  if (store) await store.deletePrefix(backupPrefix(backup.backupName!));
}
