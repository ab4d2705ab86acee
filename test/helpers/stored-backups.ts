import { eq } from 'drizzle-orm';
import { readBackup, readManifest, storeOf } from '../../src/backup/objects.js';
import { backupChunks, backups } from '../../src/backup/tables.js';
import type { ObjectStore } from '../../src/backup/object-store.js';
import type { Runtime } from '../../src/runtime.js';
import { rawId } from './operations.js';

/** A backup's row and its store, opened as the server opens it. */
export async function storedBackup(rt: Runtime, backupId: string) {
  const [row] = await rt.database.db
    .select()
    .from(backups)
    .where(eq(backups.id, rawId(backupId)));
  if (!row) throw new Error(`no backup ${backupId}`);
  return { row, store: (await storeOf(rt, row)) as ObjectStore };
}

/** The records of a backup, decrypted and decompressed, as a restore reads them. */
export async function records(rt: Runtime, backupId: string) {
  const { row } = await storedBackup(rt, backupId);
  const out: any[] = [];
  for await (const line of readBackup(rt, row)) out.push(JSON.parse(line));
  return out;
}

/** Changes one byte of a backup's first chunk in its store, as a fault of the storage would. */
export async function damageChunk(rt: Runtime, backupId: string, offset = 30, delta = 1) {
  const { row, store } = await storedBackup(rt, backupId);
  const key = `${row.backupName}/chunk-000000`;
  const data = await store.get(key);
  data[offset] = (data[offset]! + delta + 256) % 256;
  await store.put(key, data);
}

/** Every stored object of every backup in a store, concatenated (to look for plaintext in them). */
export async function allStoredBytes(store: ObjectStore): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const object of await store.list('')) parts.push(await store.get(object.key));
  return Buffer.concat(parts);
}

/**
 * Turns a backup into one taken before backup stores existed: its sealed chunks go into
 * backup_chunks (as the old code wrote them), its row forgets its store, its objects are removed.
 */
export async function makeLegacy(rt: Runtime, backupId: string) {
  const { row, store } = await storedBackup(rt, backupId);
  const manifest = await readManifest(rt, store, row.backupName!);
  if (manifest.backupId !== row.id) throw new Error('only a backup written by this deployment can be made legacy');
  for (const [seq, chunk] of manifest.chunks.entries())
    await rt.database.db.insert(backupChunks).values({ backupId: row.id, seq, data: await store.get(chunk.key) });
  await rt.database.db.update(backups).set({ storeId: null, backupName: null }).where(eq(backups.id, row.id));
  await store.deletePrefix(`${row.backupName}/`);
}

/** Makes a backup's lock end now, as the passing of time would: in its row and on its objects. */
export async function endLock(rt: Runtime, backupId: string) {
  const ended = new Date(Date.now() - 1000);
  await rt.database.db
    .update(backups)
    .set({ lockedUntil: ended })
    .where(eq(backups.id, rawId(backupId)));
  const { row, store } = await storedBackup(rt, backupId);
  await store.lock(`${row.backupName}/`, ended);
}
