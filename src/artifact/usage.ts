import { sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Queryable } from '../db/query.js';
import type { Usage } from './rules.js';
import * as t from './tables.js';

/** Agreements, bridges and hybrid connections a service uses, in one statement. */
export async function countUsage(tx: Queryable, serviceId: string): Promise<Usage> {
  const count = (table: PgTable & { serviceId: PgColumn }) =>
    sql<number>`(select count(*)::int from ${table} where ${table.serviceId} = ${serviceId})`;
  const [row] = await tx
    .select({
      agreements: count(t.agreements),
      bridges: count(t.bridges),
      hybridConnections: count(t.hybridConnections),
    })
    .from(sql`(select 1) as one`);
  return row!;
}
