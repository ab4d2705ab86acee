import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { PAGE_QUERY, PAGE_SQL } from '../bench/baseline-sql.js';
import { seedStatements } from '../bench/seed.js';
import { useTestServer } from './helpers/server.js';

const file = useTestServer({ SCHEDULER_INTERVAL_MS: '3600000' });

describe('the query benchmark page', () => {
  it('answers the same JSON as its hand-written json_agg baseline, so the benchmark compares equal answers', async () => {
    const { db } = file.server.app.runtime.database;
    // More than a page of services, backups and agreements: every limit of the page cuts a longer list.
    await db.transaction(async (tx) => {
      for (const statement of seedStatements(60, 12, 12)) await tx.execute(sql.raw(statement));
    });
    const result = await file.server.gql(PAGE_QUERY);
    expect(result.errors).toBeUndefined();
    const baseline = await db.execute(sql.raw(PAGE_SQL));
    const [row] = ((baseline as { rows?: unknown }).rows ?? baseline) as { edges: unknown }[];
    expect(JSON.stringify(result.data.services.edges)).toBe(JSON.stringify(row!.edges));
    const edges = result.data.services.edges;
    expect(edges).toHaveLength(50);
    expect(edges[0].node.name).toBe('svc-0001');
    expect(edges[49].node.name).toBe('svc-0050');
    expect(edges.map((e: any) => [e.node.backups.edges.length, e.node.agreements.edges.length])).toEqual(
      Array(50).fill([10, 10]),
    );
  });
});
