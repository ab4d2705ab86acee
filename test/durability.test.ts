import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildService } from './helpers/artifacts.js';
import { freshDatabase, type TestDatabase } from './helpers/database.js';
import { spawnServer } from './helpers/process.js';
import { rawId } from './helpers/operations.js';
import { startServer } from './helpers/server.js';

const MIC_ROWS = 40_000;

const PLAN =
  'query ($id: ID!) { restorePlan(id: $id) { state failureReason service { name state agreements { edges { node { name as2MicValues { totalCount } } } } } history { sequence state progress { category done } } } }';

let database: TestDatabase;
/** The large backup the first test makes; the merge test restores from it too. */
let largeBackupId: string;
beforeAll(async () => {
  database = await freshDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('a restore interrupted by a crash', () => {
  it('is taken over at the next start and ends SUSPENDED with no partial or duplicated rows', async () => {
    // A large backup: a service with many AS2 MIC values (inserted directly to keep the test fast).
    const setup = await startServer(database.env);
    const built = await buildService(setup.gql.bind(setup), 'crash-source');
    const agreementId = rawId(built.agreements.as2);
    await setup.app.runtime.database.db.execute(
      sql`insert into as2_mic_values (agreement_id, message_id, algorithm, value, created_at) select ${agreementId}, '<' || g || '@crash-source.biztalk.windows.net>', 'sha-256', md5(g::text), now() from generate_series(1, ${MIC_ROWS}) g`,
    );
    const created = await setup.gql(
      'mutation ($id: ID!) { createBackup(input: { serviceId: $id }) { ... on CreateBackupSuccess { backup { id } } } }',
      { id: built.serviceId },
    );
    const backupId = created.data.createBackup.backup.id;
    largeBackupId = backupId;
    for (let i = 0; i < 200; i++) {
      if (
        (await setup.gql('query ($id: ID!) { backup(id: $id) { status } }', { id: backupId })).data.backup.status ===
        'SUCCEEDED'
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await setup.stop();

    // Execute in a real server process, and kill it mid-restore.
    const first = await spawnServer(database.env);
    const planned = await first.gql(
      'mutation ($b: ID!) { createRestorePlan(input: { backupId: $b, targetName: "crash-copy" }) { ... on CreateRestorePlanSuccess { plan { id } } } }',
      { b: backupId },
    );
    const planId = planned.createRestorePlan.plan.id;
    await first.gql('mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename } }', {
      id: planId,
    });
    for (let i = 0; i < 600; i++) {
      const plan = (await first.gql(PLAN, { id: planId })).restorePlan;
      if (plan.history.some((e: any) => e.progress?.category === 'AS2_MIC_VALUES' && e.progress.done >= 5000)) break;
      expect(plan.state).toBe('RESTORING');
      await new Promise((r) => setTimeout(r, 20));
    }
    await first.stop('SIGKILL');

    // The next start takes the restore over and finishes it.
    const second = await spawnServer({ ...database.env, SCHEDULER_INTERVAL_MS: '200' });
    let plan: any;
    for (let i = 0; i < 1200; i++) {
      plan = (await second.gql(PLAN, { id: planId })).restorePlan;
      if (['SUSPENDED', 'FAILED'].includes(plan.state)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const services = await second.gql(
      '{ services(states: [ACTIVE, STOPPED, SUSPENDED, RESTORING]) { edges { node { name state } } } }',
    );
    await second.stop();

    expect(plan.state).toBe('SUSPENDED');
    expect(plan.history.some((e: any) => e.state === 'RESTORING' && e.progress === null && e.sequence > 2)).toBe(true); // the takeover is in the history
    expect(plan.service.state).toBe('SUSPENDED');
    const mics = plan.service.agreements.edges.find((e: any) => e.node.name === 'Contoso-Fabrikam AS2').node
      .as2MicValues.totalCount;
    expect(mics).toBe(MIC_ROWS); // nothing lost, nothing twice
    expect(services.services.edges.filter((e: any) => e.node.name === 'crash-copy')).toEqual([
      { node: { name: 'crash-copy', state: 'SUSPENDED' } },
    ]);
    expect(plan.history.map((e: any) => e.sequence)).toEqual(plan.history.map((_: unknown, i: number) => i + 1));
  }, 180_000);

  it('a merge is taken over too: it ends merged once, with the target back in its state and no staging service', async () => {
    const first = await spawnServer(database.env);
    const made = await first.gql(
      'mutation { createService(input: { name: "crash-merge", edition: STANDARD, region: "westeurope" }) { ... on CreateServiceSuccess { service { id } } } }',
    );
    const targetServiceId = made.createService.service.id;
    await first.gql('mutation ($s: ID!) { stopService(input: { serviceId: $s }) { __typename } }', {
      s: targetServiceId,
    });
    const planned = await first.gql(
      'mutation ($b: ID!, $t: ID!) { createRestorePlan(input: { backupId: $b, targetServiceId: $t, selection: [{ category: AGREEMENTS }] }) { ... on CreateRestorePlanSuccess { plan { id } } } }',
      { b: largeBackupId, t: targetServiceId },
    );
    const planId = planned.createRestorePlan.plan.id;
    await first.gql('mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename } }', {
      id: planId,
    });
    for (let i = 0; i < 600; i++) {
      const plan = (await first.gql(PLAN, { id: planId })).restorePlan;
      if (plan.history.some((e: any) => e.progress?.category === 'AS2_MIC_VALUES' && e.progress.done >= 5000)) break;
      expect(plan.state).toBe('RESTORING');
      await new Promise((r) => setTimeout(r, 20));
    }
    await first.stop('SIGKILL');

    const second = await spawnServer({ ...database.env, SCHEDULER_INTERVAL_MS: '200' });
    let plan: any;
    for (let i = 0; i < 1200; i++) {
      plan = (await second.gql(PLAN, { id: planId })).restorePlan;
      if (['ACTIVE', 'FAILED'].includes(plan.state)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const target = await second.gql(
      '{ service(name: "crash-merge") { state agreements { edges { node { name as2MicValues { totalCount } } } } } }',
    );
    const services = await second.gql(
      '{ services(states: [ACTIVE, STOPPED, SUSPENDED, RESTORING], first: 100) { edges { node { name } } } }',
    );
    await second.stop();

    expect(plan.state).toBe('ACTIVE');
    expect(plan.history.some((e: any) => e.state === 'RESTORING' && e.progress === null && e.sequence > 2)).toBe(true); // taken over
    expect(target.service.state).toBe('STOPPED');
    const agreements = target.service.agreements.edges.map((e: any) => [e.node.name, e.node.as2MicValues.totalCount]);
    expect(agreements.sort()).toEqual([
      ['Contoso-Fabrikam AS2', MIC_ROWS],
      ['Contoso-Fabrikam EDIFACT', 0],
      ['Contoso-Fabrikam X12', 0],
    ]);
    expect(services.services.edges.filter((e: any) => e.node.name.startsWith('merge-'))).toEqual([]);
  }, 180_000);
});
