import { and, asc, eq, gte } from 'drizzle-orm';
import type { DatabaseHandle } from '../db/client.js';
import { backupChunks } from './tables.js';

const READ_BATCH = 4;

/**
 * The chunks of a backup taken before backup stores existed, kept in PostgreSQL (backup_chunks), in
 * order, a few at a time. Nothing writes there any more; these backups stay listed and restorable,
 * and their chunks go with their row (ON DELETE CASCADE).
 */
export async function* databaseChunks(database: DatabaseHandle, backupId: string): AsyncIterable<Buffer> {
  if (database.copyOutBytea) {
    // A missing or misplaced chunk fails authentication: each is sealed with its position.
    if (!/^[0-9a-f-]{36}$/i.test(backupId)) throw new Error('not a backup id');
    yield* database.copyOutBytea(`select data from backup_chunks where backup_id = '${backupId}' order by seq`);
    return;
  }
  const read = (from: number) =>
    database.db
      .select({ seq: backupChunks.seq, data: backupChunks.data })
      .from(backupChunks)
      .where(and(eq(backupChunks.backupId, backupId), gte(backupChunks.seq, from)))
      .orderBy(asc(backupChunks.seq))
      .limit(READ_BATCH)
      .execute();
  // The next few chunks are fetched while these are decrypted and decompressed.
  for (let seq = 0, next = read(0); ; ) {
    const rows = await next;
    if (rows.length === READ_BATCH) {
      next = read(seq + READ_BATCH);
      next.catch(() => {}); // a reader that stops early leaves it unread: awaited above otherwise
    }
    for (const row of rows) {
      if (row.seq !== seq) throw new Error(`backup chunk ${seq} is missing`);
      yield row.data;
      seq++;
    }
    if (rows.length < READ_BATCH) return;
  }
}
