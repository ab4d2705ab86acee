import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildService, mutate, serviceContents } from './helpers/artifacts.js';
import { freshDatabase, type TestDatabase } from './helpers/database.js';
import { startServer, type TestServer } from './helpers/server.js';
import { until } from './helpers/wait.js';

const connectionString = inject('azuriteConnectionString');
const ACCOUNT_KEY = /AccountKey=([^;]+)/.exec(connectionString)![1]!;
const PROCESS =
  'mutation ($id: ID!, $p: String) { processEdiMessage(input: { agreementId: $id, payload: $p }) { __typename } }';

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => {});
});

async function deployment(): Promise<{ server: TestServer; database: TestDatabase }> {
  const database = await freshDatabase();
  const server = await startServer(database.env);
  cleanup.push(
    () => server.stop(),
    () => database.drop(),
  );
  return { server, database };
}

const registerStore = (server: TestServer, container: string) =>
  mutate(server.gql, 'createBackupStore', {
    name: 'dr-azure',
    kind: 'AZURE_BLOB',
    credentials: connectionString,
    container,
  });

describe('disaster recovery', () => {
  it('restores every artifact, secret and control number into a new deployment after the database is lost', async () => {
    const container = `recovery-${randomBytes(4).toString('hex')}`;
    // Deployment A: a service with every artifact kind, secrets, and control numbers in use.
    const a = await deployment();
    const built = await buildService(a.server.gql, 'lost-service');
    await a.server.gql(
      'mutation ($input: UpdateServiceSettingsInput!) { updateServiceSettings(input: $input) { __typename } }',
      {
        input: {
          serviceId: built.serviceId,
          acsNamespace: 'contoso',
          acsIssuerKey: 'issuer-key-kept-sealed',
          trackingDatabaseConnectionString: 'Server=tracking;Password=kept-sealed',
          sslCertificate: { pfxBase64: Buffer.from('pfx bytes').toString('base64'), password: 'pfx-password' },
        },
      },
    );
    for (let i = 0; i < 3; i++) await a.server.gql(PROCESS, { id: built.agreements.edifact, p: `m${i}` });
    await a.server.gql('mutation ($id: ID!) { releaseBatch(input: { agreementId: $id }) { __typename } }', {
      id: built.agreements.x12,
    });
    const store = await registerStore(a.server, container);
    const created = await a.server.gql(
      'mutation ($input: CreateBackupInput!) { createBackup(input: $input) { ... on CreateBackupSuccess { backup { id } } } }',
      { input: { serviceId: built.serviceId, storeId: store.id, backupName: 'lost-service-before-disaster' } },
    );
    await until(
      () =>
        a.server.gql('query ($id: ID!) { backup(id: $id) { status } }', { id: created.data.createBackup.backup.id }),
      (r) => r.data.backup.status === 'SUCCEEDED',
    );
    const before = await serviceContents(a.server.gql, built.serviceId);
    expect(before.agreements.edges.map((e: any) => e.node.controlNumbers.interchange)).toContain(3);

    // The disaster: A's server stops and its database is dropped.
    await a.server.stop();
    await a.database.drop();

    // Deployment B: an empty database, the same ENCRYPTION_KEY, the same storage account.
    const b = await deployment();
    const registered = await registerStore(b.server, container);
    const imported = await b.server.gql(
      'mutation ($id: ID!) { importBackups(input: { storeId: $id }) { ... on ImportBackupsSuccess { backups { id status serviceName backupName service { id } } } } }',
      { id: registered.id },
    );
    const [backup] = imported.data.importBackups.backups;
    expect(imported.data.importBackups.backups).toEqual([
      {
        id: expect.any(String),
        status: 'SUCCEEDED',
        serviceName: 'lost-service',
        backupName: 'lost-service-before-disaster',
        service: null,
      },
    ]);
    const planned = await b.server.gql(
      'mutation ($input: CreateRestorePlanInput!) { createRestorePlan(input: $input) { ... on CreateRestorePlanSuccess { plan { id checks { code severity } } } } }',
      { input: { backupId: backup.id, targetName: 'lost-service' } },
    );
    const plan = planned.data.createRestorePlan.plan;
    expect(plan.checks.filter((c: any) => c.severity === 'BLOCKER')).toEqual([]);
    await b.server.gql('mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename } }', {
      id: plan.id,
    });
    const done = await until(
      () => b.server.gql('query ($id: ID!) { restorePlan(id: $id) { state service { id } } }', { id: plan.id }),
      (r) => !['PLANNED', 'RESTORING'].includes(r.data.restorePlan.state),
      30_000,
    );
    expect(done.data.restorePlan.state).toBe('SUSPENDED');
    const after = await serviceContents(b.server.gql, done.data.restorePlan.service.id);
    // Hybrid connections are never backed up (the seed's rule); everything else comes back as it was.
    expect({ ...after, hybridConnections: before.hybridConnections }).toEqual(before);
    expect(after.settings.acsIssuerKey.fingerprint).toBe(before.settings.acsIssuerKey.fingerprint);
    const responses = JSON.stringify([imported, planned, done, b.server.logs]);
    expect(responses).not.toContain(ACCOUNT_KEY);
  }, 120_000);
});
