import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { OPERATOR_QUERY, OPERATOR_SQL } from '../bench/operator-page.js';
import { buildService, succeededBackup } from './helpers/artifacts.js';
import { useTestServer } from './helpers/server.js';
import { until } from './helpers/wait.js';

const file = useTestServer();
const gql = (q: string, v?: Record<string, unknown>) => file.server.gql(q, v);

const CREATE_PLAN = `mutation ($input: CreateRestorePlanInput!) { createRestorePlan(input: $input) {
  ... on CreateRestorePlanSuccess { plan { id } } ... on Error { code message } } }`;

it("answers the benchmark's operator page with exactly the JSON of its hand-written SQL baseline", async () => {
  // Real rows: backups with item counts, a restore executed to its end (checks, history with progress),
  // one still planned, and the audit entries of all of it.
  const built = await buildService(gql, 'operator-page');
  const first = await succeededBackup(gql, built.serviceId);
  const second = await succeededBackup(gql, built.serviceId);
  const restored = (await gql(CREATE_PLAN, { input: { backupId: first, targetName: 'operator-copy' } })).data
    .createRestorePlan.plan.id;
  await gql('mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename } }', { id: restored });
  await until(
    () => gql('query ($id: ID!) { restorePlan(id: $id) { state } }', { id: restored }),
    (r) => r.data.restorePlan.state === 'SUSPENDED',
  );
  await gql(CREATE_PLAN, { input: { backupId: second, targetName: 'operator-later', targetRegion: 'northeurope' } });

  const api = await gql(OPERATOR_QUERY);
  expect(api.errors).toBeUndefined();
  const result = await file.server.app.runtime.database.db.execute(sql.raw(OPERATOR_SQL));
  const [row] = ((result as { rows?: unknown }).rows ?? result) as { page: unknown }[];
  const baseline = typeof row!.page === 'string' ? JSON.parse(row!.page) : row!.page;
  expect(JSON.stringify(api.data)).toBe(JSON.stringify(baseline));

  // The page is not trivially equal: it holds what was made above.
  const plans = api.data.restorePlans.edges.map((e: any) => e.node);
  expect(plans.map((p: any) => [p.targetName, p.state])).toEqual([
    ['operator-later', 'PLANNED'],
    ['operator-copy', 'SUSPENDED'],
  ]);
  expect(plans[1].history.some((e: any) => e.progress !== null)).toBe(true);
  expect(plans[1].checks.length).toBeGreaterThan(0);
  expect(api.data.backups.edges[0].node.itemCounts).toContainEqual({ category: 'PARTNERS', count: 2 });
  expect(api.data.auditLog.edges.length).toBeGreaterThan(20);
});
