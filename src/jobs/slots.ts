import { and, eq, lte, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Database } from '../db/client.js';

/** A schedule table: one row per service, with its cron, whether it is on, its next and last run. */
export type ScheduleTable = PgTable & { serviceId: PgColumn; enabled: PgColumn; nextRunAt: PgColumn };

type ScheduleFields = { serviceId: string; cron: string; nextRunAt: Date | null };

/**
 * Starts every due schedule of a table once across instances: each instance claims a row's slot by
 * moving its next run time forward with a compare-and-set UPDATE, so when several instances look at
 * the same moment only one wins. A slot missed while every instance was down is simply due: it runs
 * once, then the next run is computed from now. `start` gets each row as claimed; returns how many.
 */
export async function startDueSlots<Row extends ScheduleFields>(
  db: Database,
  schedules: ScheduleTable,
  now: Date,
  nextRun: (cron: string, from: Date) => Date,
  start: (claimed: Row) => void,
): Promise<number> {
  const due = (await db
    .select()
    .from(schedules)
    .where(and(eq(schedules.enabled, true), lte(schedules.nextRunAt, now)))) as Row[];
  let started = 0;
  for (const schedule of due) {
    const [claimed] = (await db
      .update(schedules)
      .set({ nextRunAt: nextRun(schedule.cron, now), lastRunAt: now } as never) // both tables have these columns
      .where(
        and(
          eq(schedules.serviceId, schedule.serviceId),
          // Compared at millisecond precision: the value read back into JavaScript has no microseconds.
          sql`date_trunc('milliseconds', ${schedules.nextRunAt}) = ${schedule.nextRunAt!.toISOString()}::timestamptz`,
        ),
      )
      .returning()) as Row[];
    if (!claimed) continue; // another instance took this slot
    started++;
    start(claimed);
  }
  return started;
}
