import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../helpers/database.js';
import { spawnServer, type ServerProcess } from '../helpers/process.js';
import { rawId } from '../helpers/operations.js';
import { collect } from '../helpers/server.js';
import { until } from '../helpers/wait.js';

// Several real server processes on one PostgreSQL database (needs TEST_DATABASE_URL; CI sets it).
const cluster = !!process.env.TEST_DATABASE_URL;

let database: TestDatabase;
let servers: ServerProcess[] = [];

async function serviceWithBackup(on: ServerProcess, name: string, micRows = 0) {
  const created = await on.gql(
    `mutation { createService(input: { name: "${name}", edition: STANDARD, region: "westus" }) { ... on CreateServiceSuccess { service { id } } } }`,
  );
  const serviceId = created.createService.service.id;
  if (micRows) {
    const partner = async (n: string) =>
      (
        await on.gql(
          'mutation ($s: ID!, $n: String!) { createPartner(input: { serviceId: $s, name: $n }) { ... on CreatePartnerSuccess { partner { id } } } }',
          { s: serviceId, n },
        )
      ).createPartner.partner.id;
    const profile = async (p: string, n: string) =>
      (
        await on.gql(
          'mutation ($p: ID!, $n: String!) { createProfile(input: { partnerId: $p, name: $n, qualifier: "ZZ", identifier: $n }) { ... on CreateProfileSuccess { profile { id } } } }',
          { p, n },
        )
      ).createProfile.profile.id;
    const host = await profile(await partner('Host'), 'HOST');
    const guest = await profile(await partner('Guest'), 'GUEST');
    const agreement = (
      await on.gql(
        'mutation ($s: ID!, $h: ID!, $g: ID!) { createAgreement(input: { serviceId: $s, name: "AS2", hostProfileId: $h, guestProfileId: $g, protocol: AS2 }) { ... on CreateAgreementSuccess { agreement { id } } } }',
        { s: serviceId, h: host, g: guest },
      )
    ).createAgreement.agreement.id;
    const sql = postgres(database.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    const id = rawId(agreement);
    await sql`insert into as2_mic_values (agreement_id, message_id, algorithm, value, created_at) select ${id}, '<' || g || '@x>', 'sha-256', md5(g::text), now() from generate_series(1, ${micRows}) g`;
    await sql.end();
  }
  const backup = (
    await on.gql(
      'mutation ($s: ID!) { createBackup(input: { serviceId: $s }) { ... on CreateBackupSuccess { backup { id } } } }',
      { s: serviceId },
    )
  ).createBackup.backup.id;
  await until(
    () => on.gql('query ($id: ID!) { backup(id: $id) { status } }', { id: backup }),
    (r) => r.backup.status === 'SUCCEEDED',
  );
  return { serviceId, backupId: backup as string };
}

const plan = async (on: ServerProcess, backupId: string, targetName: string) =>
  (
    await on.gql(
      'mutation ($b: ID!, $n: String!) { createRestorePlan(input: { backupId: $b, targetName: $n }) { ... on CreateRestorePlanSuccess { plan { id } } } }',
      { b: backupId, n: targetName },
    )
  ).createRestorePlan.plan.id as string;

describe.skipIf(!cluster)('several instances on one PostgreSQL', () => {
  beforeAll(async () => {
    database = await freshDatabase();
    servers = [await spawnServer({ ...database.env, SCHEDULER_INTERVAL_MS: '200' })];
    servers.push(
      ...(await Promise.all([1, 2].map(() => spawnServer({ ...database.env, SCHEDULER_INTERVAL_MS: '200' })))),
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await database?.drop();
  });

  it("delivers A's restore events to a subscriber on B in order, with no gap or duplicate", async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const { backupId } = await serviceWithBackup(a, 'events-source');
    const planId = await plan(a, backupId, 'events-copy');
    const sub = collect(
      b.ws(),
      'subscription ($id: ID!) { restoreProgress(planId: $id) { sequence state previousState } }',
      { id: planId },
      1000,
    );
    await sub.ready;
    await a.gql('mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename } }', { id: planId });
    const suspended = await until(
      () => a.gql('query ($id: ID!) { restorePlan(id: $id) { state service { id } } }', { id: planId }),
      (r) => r.restorePlan.state === 'SUSPENDED',
    );
    await a.gql('mutation ($id: ID!) { resumeService(input: { serviceId: $id, force: true }) { __typename } }', {
      id: suspended.restorePlan.service.id,
    });
    const events = (await sub.done).map((e) => e.restoreProgress);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.state !== e.previousState).map((e) => e.state)).toEqual([
      'PLANNED',
      'RESTORING',
      'SUSPENDED',
      'ACTIVE',
    ]);
  }, 90_000);

  it('turns 50 concurrent executes for one name, spread over the instances, into exactly one service', async () => {
    const { backupId } = await serviceWithBackup(servers[0]!, 'race-source');
    const plans = await Promise.all(
      Array.from({ length: 50 }, (_, i) => plan(servers[i % 3]!, backupId, 'one-winner')),
    );
    const results = await Promise.all(
      plans.map((id, i) =>
        servers[i % 3]!.gql('mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename } }', {
          id,
        }),
      ),
    );
    const kinds = results.map((r) => r.executeRestorePlan.__typename);
    expect(kinds.filter((k) => k === 'ExecuteRestorePlanSuccess')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'NameUnavailableError')).toHaveLength(49);
    const services = await servers[1]!.gql(
      '{ services(states: [RESTORING, SUSPENDED, ACTIVE]) { edges { node { name } } } }',
    );
    expect(services.services.edges.filter((e: any) => e.node.name === 'one-winner')).toHaveLength(1);
  }, 90_000);

  it('finishes a restore on another instance after the one running it is killed', async () => {
    const victim = await spawnServer({ ...database.env, SCHEDULER_INTERVAL_MS: '200' });
    const { backupId } = await serviceWithBackup(victim, 'killed-source', 30_000);
    const planId = await plan(victim, backupId, 'killed-copy');
    await victim.gql('mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename } }', {
      id: planId,
    });
    await until(
      () =>
        victim.gql('query ($id: ID!) { restorePlan(id: $id) { history { progress { category } } } }', { id: planId }),
      (r) => r.restorePlan.history.some((e: any) => e.progress?.category === 'AS2_MIC_VALUES'),
    );
    expect(await victim.stop('SIGKILL')).toBe(null);
    const killedAt = Date.now();
    const done = await until(
      () =>
        servers[0]!.gql(
          'query ($id: ID!) { restorePlan(id: $id) { state service { state agreements { edges { node { as2MicValues { totalCount } } } } } } }',
          { id: planId },
        ),
      (r) => ['SUSPENDED', 'FAILED'].includes(r.restorePlan.state),
      90_000,
    );
    expect(done.restorePlan.state).toBe('SUSPENDED');
    expect(done.restorePlan.service.agreements.edges[0].node.as2MicValues.totalCount).toBe(30_000);
    expect(Date.now() - killedAt).toBeLessThan(60_000); // lease 15 s, then a takeover and a full restore
  }, 180_000);

  it('runs a due schedule once while three instances watch it', async () => {
    const { serviceId } = await serviceWithBackup(servers[0]!, 'scheduled-source');
    await servers[0]!.gql(
      'mutation ($s: ID!) { setBackupSchedule(input: { serviceId: $s, cron: "0 0 1 1 *" }) { __typename } }',
      { s: serviceId },
    );
    const sql = postgres(database.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    await sql`update backup_schedules set next_run_at = now() - interval '2 days' where service_id = ${rawId(serviceId)}`;
    await sql.end();
    const after = await until(
      () => servers[1]!.gql('{ backups(serviceName: "scheduled-source") { edges { node { kind status } } } }'),
      (r) => r.backups.edges.some((e: any) => e.node.kind === 'SCHEDULED' && e.node.status === 'SUCCEEDED'),
    );
    await new Promise((r) => setTimeout(r, 1500)); // give the other instances every chance to run it again
    const final = await servers[2]!.gql('{ backups(serviceName: "scheduled-source") { edges { node { kind } } } }');
    expect(after.backups.edges.length).toBeGreaterThan(0);
    expect(final.backups.edges.filter((e: any) => e.node.kind === 'SCHEDULED')).toHaveLength(1);
  }, 60_000);
});
