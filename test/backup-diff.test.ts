import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildService, createService, mutate, succeededBackup } from './helpers/artifacts.js';
import { lifecycle, rawId } from './helpers/operations.js';
import { useTestServer } from './helpers/server.js';
import { until } from './helpers/wait.js';

const file = useTestServer();
const gql = (q: string, v?: Record<string, unknown>) => file.server.gql(q, v);

const DIFF_FIELDS = `__typename
  ... on BackupDiff { identical categories { category added removed changed { name fields } addedCount removedCount changedCount } }
  ... on Error { code message }`;
const COMPARE = `query ($a: ID!, $b: ID!) { compareBackups(a: $a, b: $b) { ${DIFF_FIELDS} } }`;
const FROM_LIVE = `query ($id: ID!) { backup(id: $id) { diffFromLive { ${DIFF_FIELDS} } } }`;
const SECRET = 'MARKER-diff-s3cr3t-42';

const backupOf = (serviceId: string) => succeededBackup(gql, serviceId);

const setIssuerKey = (serviceId: string, key: string) =>
  gql(
    'mutation ($s: ID!, $k: String) { updateServiceSettings(input: { serviceId: $s, acsIssuerKey: $k }) { __typename } }',
    {
      s: serviceId,
      k: key,
    },
  );

const empty = { added: [], removed: [], changed: [], addedCount: 0, removedCount: 0, changedCount: 0 };

describe('backup diff', () => {
  it('lists what was added, removed and changed between two backups, by name and field', async () => {
    const built = await buildService(gql, 'diff-two');
    const a = await backupOf(built.serviceId);
    await mutate(gql, 'createPartner', { serviceId: built.serviceId, name: 'Northwind' });
    const transforms = await gql(
      '{ service(name: "diff-two") { transforms { edges { node { id } } } bridges { edges { node { id } } } } }',
    );
    await mutate(gql, 'deleteTransform', { transformId: transforms.data.service.transforms.edges[0].node.id });
    await mutate(gql, 'updateBridge', {
      bridgeId: transforms.data.service.bridges.edges[0].node.id,
      config: { validate: false },
    });
    await mutate(gql, 'updateAgreement', {
      agreementId: built.agreements.as2,
      sourceFtpFolder: 'ftp://ftp.example.com/in',
    });
    const b = await backupOf(built.serviceId);
    const diff = (await gql(COMPARE, { a, b })).data.compareBackups;
    expect(diff).toEqual({
      __typename: 'BackupDiff',
      identical: false,
      categories: [
        { ...empty, category: 'PARTNERS', added: ['Northwind'], addedCount: 1 },
        {
          ...empty,
          category: 'AGREEMENTS',
          changed: [{ name: 'Contoso-Fabrikam AS2', fields: ['sourceFtpFolder'] }],
          changedCount: 1,
        },
        { ...empty, category: 'BRIDGES', changed: [{ name: 'OrdersBridge', fields: ['config'] }], changedCount: 1 },
        { ...empty, category: 'TRANSFORMS', removed: ['PO to Order'], removedCount: 1 },
      ],
    });
  });

  it('compares secrets by fingerprint only: the same value again is no change, and no value is ever shown', async () => {
    const serviceId = await createService(gql, 'diff-secrets');
    await setIssuerKey(serviceId, `${SECRET}-1`);
    const a = await backupOf(serviceId);
    await setIssuerKey(serviceId, `${SECRET}-1`);
    const same = await backupOf(serviceId);
    expect((await gql(COMPARE, { a, b: same })).data.compareBackups).toEqual({
      __typename: 'BackupDiff',
      identical: true,
      categories: [],
    });
    await setIssuerKey(serviceId, `${SECRET}-2`);
    const other = await backupOf(serviceId);
    const response = await gql(COMPARE, { a, b: other });
    expect(response.data.compareBackups.categories).toEqual([
      {
        ...empty,
        category: 'SERVICE_SETTINGS',
        changed: [{ name: 'settings', fields: ['ACS_ISSUER_KEY'] }],
        changedCount: 1,
      },
    ]);
    expect(JSON.stringify(response)).not.toContain(SECRET);
  });

  it("shows what changed in the backup's service since the backup (diffFromLive)", async () => {
    const serviceId = await createService(gql, 'diff-live');
    await mutate(gql, 'createPartner', { serviceId, name: 'Contoso' });
    const backupId = await backupOf(serviceId);
    expect((await gql(FROM_LIVE, { id: backupId })).data.backup.diffFromLive).toEqual({
      __typename: 'BackupDiff',
      identical: true,
      categories: [],
    });
    await mutate(gql, 'createPartner', { serviceId, name: 'Fabrikam' });
    await mutate(gql, 'createTemplate', { serviceId, name: 'New template', content: '{}' });
    expect((await gql(FROM_LIVE, { id: backupId })).data.backup.diffFromLive.categories).toEqual([
      { ...empty, category: 'PARTNERS', added: ['Fabrikam'], addedCount: 1 },
      { ...empty, category: 'TEMPLATES', added: ['New template'], addedCount: 1 },
    ]);
  });

  it('shows a restore plan what its existing target holds that differs from the backup', async () => {
    const serviceId = await createService(gql, 'diff-target');
    const backupId = await backupOf(serviceId);
    await mutate(gql, 'createPartner', { serviceId, name: 'Added later' });
    const PLAN = `mutation ($b: ID!, $n: String!) { createRestorePlan(input: { backupId: $b, targetName: $n }) {
      ... on CreateRestorePlanSuccess { plan { checks { code } targetDiff { ${DIFF_FIELDS} } } } } }`;
    const onto = (await gql(PLAN, { b: backupId, n: 'diff-target' })).data.createRestorePlan.plan;
    expect(onto.checks.map((c: { code: string }) => c.code)).toContain('NAME_IN_USE');
    expect(onto.targetDiff).toEqual({
      __typename: 'BackupDiff',
      identical: false,
      categories: [{ ...empty, category: 'PARTNERS', added: ['Added later'], addedCount: 1 }],
    });
    const fresh = (await gql(PLAN, { b: backupId, n: 'diff-target-new' })).data.createRestorePlan.plan;
    expect(fresh.targetDiff).toBeNull();
  });

  it('lists at most 100 names per change while counting them all', async () => {
    const built = await buildService(gql, 'diff-many');
    const a = await backupOf(built.serviceId);
    const agreementId = rawId(built.agreements.as2);
    await file.server.app.runtime.database.db.execute(
      sql`insert into as2_mic_values (agreement_id, message_id, algorithm, value, created_at)
          select ${agreementId}, '<' || lpad(g::text, 4, '0') || '@x>', 'sha-256', md5(g::text), now() from generate_series(1, 250) g`,
    );
    const b = await backupOf(built.serviceId);
    const [mic] = (await gql(COMPARE, { a, b })).data.compareBackups.categories;
    expect(mic.category).toBe('AS2_MIC_VALUES');
    expect([mic.addedCount, mic.added.length, mic.removedCount, mic.changedCount]).toEqual([250, 100, 0, 0]);
    expect(mic.added.slice(0, 2)).toEqual(['Contoso-Fabrikam AS2/<0001@x>', 'Contoso-Fabrikam AS2/<0002@x>']);
  });

  it('refuses to compare a backup that is not SUCCEEDED, an unknown backup, or a deleted service', async () => {
    const serviceId = await createService(gql, 'diff-refused');
    const good = await backupOf(serviceId);
    const failedId = (
      await gql(
        'mutation ($s: ID!) { createBackup(input: { serviceId: $s }) { ... on CreateBackupSuccess { backup { id } } } }',
        { s: serviceId },
      )
    ).data.createBackup.backup.id;
    await until(
      () => gql('query ($id: ID!) { backup(id: $id) { status } }', { id: failedId }),
      (r) => r.data.backup.status === 'SUCCEEDED',
    );
    await file.server.app.runtime.database.db.execute(
      sql`update backups set status = 'FAILED' where id = ${rawId(failedId)}`,
    );
    expect((await gql(COMPARE, { a: good, b: failedId })).data.compareBackups).toEqual({
      __typename: 'InvalidStateError',
      code: 'INVALID_STATE',
      message: 'The backup is FAILED; only a SUCCEEDED backup can be compared',
    });
    const unknown = Buffer.from('Backup:00000000-0000-4000-8000-000000000000').toString('base64');
    expect((await gql(COMPARE, { a: good, b: unknown })).data.compareBackups).toEqual({
      __typename: 'NotFoundError',
      code: 'NOT_FOUND',
      message: 'No Backup has the id 00000000-0000-4000-8000-000000000000',
    });
    await gql(lifecycle('deleteService'), { id: serviceId });
    expect((await gql(FROM_LIVE, { id: good })).data.backup.diffFromLive).toEqual({
      __typename: 'InvalidStateError',
      code: 'INVALID_STATE',
      message: 'The service is DELETED: there is nothing live to compare with',
    });
  });
});
