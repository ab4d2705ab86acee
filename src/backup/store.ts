import { and, asc, eq, gte } from 'drizzle-orm';
import type { DatabaseHandle } from '../db/client.js';
import type { Queryable } from '../db/query.js';
import { backupChunks } from './tables.js';

type Writes = Queryable<'select' | 'insert' | 'delete'>;

/**
 * Where backup content is kept: numbered chunks of already compressed and encrypted bytes. This one
 * keeps them in PostgreSQL; an object store can implement the same three operations.
 */
export interface BackupStore {
  writeChunk(db: Writes, backupId: string, seq: number, data: Buffer): Promise<void>;
  /** The chunks in order, a few at a time (memory stays bounded). Reads committed chunks only, outside any transaction. */
  readChunks(database: DatabaseHandle, backupId: string): AsyncIterable<Buffer>;
  deleteChunks(db: Writes, backupId: string): Promise<void>;
}

const READ_BATCH = 4;

export const postgresBackupStore: BackupStore = {
  async writeChunk(db, backupId, seq, data) {
    await db.insert(backupChunks).values({ backupId, seq, data });
  },
  async *readChunks(database, backupId) {
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
  },
  async deleteChunks(db, backupId) {
    await db.delete(backupChunks).where(eq(backupChunks.backupId, backupId));
  },
};
