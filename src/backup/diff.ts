import { randomUUID } from 'node:crypto';
import { eq, lt, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import type { Queryable } from '../db/query.js';
import { InvalidStateError, NotFoundError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { services } from '../service/tables.js';
import { isContentDamage } from './content.js';
import { readBackup } from './objects.js';
import { changedFields, diffItems } from './diff-items.js';
import { categoryOrder } from './format.js';
import { snapshot } from './snapshot.js';
import { backupDiffItems, backups } from './tables.js';

/** Names listed per category and kind of change; the counts are always complete. */
export const LISTED_NAMES = 100;
/** Items per insert while a side is read: memory holds one batch, the database holds the rest. */
const BATCH = 500;
/** Scratch rows left by a diff that never finished (its instance stopped) are removed after this. */
const ABANDONED_MS = 3600_000;

export interface CategoryDiff {
  category: string;
  added: string[];
  removed: string[];
  changed: { name: string; fields: string[] }[];
  addedCount: number;
  removedCount: number;
  changedCount: number;
}

export interface BackupDiff {
  /** Categories with at least one difference, in backup order. */
  categories: CategoryDiff[];
}

type Side = 0 | 1;

async function collect(db: Queryable<'insert'>, diffId: string, side: Side, lines: AsyncIterable<string>) {
  const toItem = diffItems();
  let batch: (typeof backupDiffItems.$inferInsert)[] = [];
  const flush = async () => {
    if (batch.length) await db.insert(backupDiffItems).values(batch).onConflictDoNothing();
    batch = [];
  };
  for await (const line of lines) {
    const item = toItem(line);
    if (!item) continue;
    batch.push({ diffId, side, ...item });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
}

/** A backup that can be compared: SUCCEEDED, its content intact. */
async function backupSide(rt: Runtime, diffId: string, side: Side, backupId: string) {
  const [backup] = await rt.database.db.select().from(backups).where(eq(backups.id, backupId));
  if (!backup) throw new NotFoundError('Backup', backupId);
  if (backup.status !== 'SUCCEEDED')
    throw new InvalidStateError(
      `The backup is ${backup.status}; only a SUCCEEDED backup can be compared`,
      backup.status,
    );
  try {
    await collect(rt.database.db, diffId, side, readBackup(rt, backup));
  } catch (error) {
    if (!isContentDamage(error)) throw error;
    throw new InvalidStateError('The backup content is damaged; verifyBackup marks it CORRUPT', 'CORRUPT');
  }
  return backup;
}

/** The live service, read as a backup would read it (one repeatable-read snapshot). */
async function liveSide(rt: Runtime, diffId: string, side: Side, serviceId: string) {
  await rt.database.db.transaction(
    async (tx) => {
      const [service] = await tx.select({ state: services.state }).from(services).where(eq(services.id, serviceId));
      if (!service) throw new NotFoundError('Service', serviceId);
      if (service.state === 'DELETED')
        throw new InvalidStateError('The service is DELETED: there is nothing live to compare with', service.state);
      await collect(tx, diffId, side, snapshot(tx, serviceId, []));
    },
    { isolationLevel: 'repeatable read' },
  );
}

interface DiffRow {
  category: string;
  name: string;
  change: 'ADDED' | 'REMOVED' | 'CHANGED';
  from_fields: string | null;
  to_fields: string | null;
  total: number;
}

/** The differences, joined and sorted by the database; at most LISTED_NAMES names per category and change. */
async function differences(db: Database, diffId: string): Promise<BackupDiff> {
  const change = sql`case when a.name is null then 'ADDED' when b.name is null then 'REMOVED' else 'CHANGED' end`;
  const result = await db.execute<DiffRow & Record<string, unknown>>(sql`
    select category, name, change, from_fields, to_fields, total from (
      select coalesce(a.category, b.category) as category, coalesce(a.name, b.name) as name, ${change} as change,
        a.fields::text as from_fields, b.fields::text as to_fields,
        count(*) over (partition by coalesce(a.category, b.category), ${change})::int as total,
        row_number() over (partition by coalesce(a.category, b.category), ${change} order by coalesce(a.name, b.name)) as n
      from (select * from backup_diff_items where diff_id = ${diffId} and side = 0) a
      full join (select * from backup_diff_items where diff_id = ${diffId} and side = 1) b
        on a.category = b.category and a.name = b.name
      where a.digest is distinct from b.digest
    ) d where n <= ${LISTED_NAMES} order by category, change, name`);
  const rows = ((result as { rows?: unknown }).rows ?? result) as DiffRow[];
  const byCategory = new Map<string, CategoryDiff>();
  for (const row of rows) {
    let entry = byCategory.get(row.category);
    if (!entry) {
      entry = {
        category: row.category,
        added: [],
        removed: [],
        changed: [],
        addedCount: 0,
        removedCount: 0,
        changedCount: 0,
      };
      byCategory.set(row.category, entry);
    }
    if (row.change === 'ADDED') {
      entry.added.push(row.name);
      entry.addedCount = Number(row.total);
    } else if (row.change === 'REMOVED') {
      entry.removed.push(row.name);
      entry.removedCount = Number(row.total);
    } else {
      const fields = changedFields(JSON.parse(row.from_fields!), JSON.parse(row.to_fields!));
      entry.changed.push({ name: row.name, fields });
      entry.changedCount = Number(row.total);
    }
  }
  return { categories: categoryOrder.flatMap((c) => byCategory.get(c) ?? []) };
}

/** Reads both sides into scratch rows, compares them, and always removes the rows. */
async function compare(rt: Runtime, read: (diffId: string) => Promise<void>): Promise<BackupDiff> {
  const { db } = rt.database;
  const diffId = randomUUID();
  await db.delete(backupDiffItems).where(lt(backupDiffItems.createdAt, new Date(Date.now() - ABANDONED_MS)));
  try {
    await read(diffId);
    return await differences(db, diffId);
  } finally {
    await db.delete(backupDiffItems).where(eq(backupDiffItems.diffId, diffId));
  }
}

/** What changed from backup `fromId` to backup `toId`, per category, by name. */
export function compareBackups(rt: Runtime, fromId: string, toId: string): Promise<BackupDiff> {
  return compare(rt, async (diffId) => {
    await backupSide(rt, diffId, 0, fromId);
    await backupSide(rt, diffId, 1, toId);
  });
}

/** What changed in the backup's service since the backup was taken. */
export function diffFromLive(rt: Runtime, backupId: string): Promise<BackupDiff> {
  return diffFromService(rt, backupId, null);
}

/** What a live service (the backup's own when null) holds that differs from the backup. */
export function diffFromService(rt: Runtime, backupId: string, serviceId: string | null): Promise<BackupDiff> {
  return compare(rt, async (diffId) => {
    const backup = await backupSide(rt, diffId, 0, backupId);
    const live = serviceId ?? backup.serviceId;
    if (!live)
      throw new InvalidStateError(
        'The backup comes from a service this deployment never had: name the service to compare it with',
        'NO_SOURCE_SERVICE',
      );
    await liveSide(rt, diffId, 1, live);
  });
}
