import { and, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Database } from '../db/client.js';

/**
 * Claims the due slot of one schedule row (`where`) by moving its next run time forward with a
 * compare-and-set UPDATE: when several instances look at the same moment only one wins. `changes`
 * holds the new next run time and whatever else the claim records. The row as claimed, or null.
 */
export async function claimSlot<Row>(
  db: Database,
  table: PgTable,
  where: SQL | undefined,
  nextRunAt: PgColumn,
  due: Date,
  changes: Record<string, unknown>,
): Promise<Row | null> {
  const claimed = await db
    .update(table)
    .set(changes as never) // the caller's own columns
    // Compared at millisecond precision: the value read back into JavaScript has no microseconds.
    .where(and(where, sql`date_trunc('milliseconds', ${nextRunAt}) = ${due.toISOString()}::timestamptz`))
    .returning();
  return ((claimed as Row[])[0] as Row | undefined) ?? null;
}
