import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { createSecretBox } from '../src/crypto.js';
import { encodeManifest, manifestKey } from '../src/backup/manifest.js';
import { buildService, createService, mutate, serviceContents } from './helpers/artifacts.js';
import { useTestServer } from './helpers/server.js';
import { damageChunk, makeLegacy, storedBackup } from './helpers/stored-backups.js';
import { until } from './helpers/wait.js';

const file = useTestServer();
const gql = (q: string, v?: Record<string, unknown>) => file.server.gql(q, v);
const connectionString = inject('azuriteConnectionString');
const ACCOUNT_KEY = /AccountKey=([^;]+)/.exec(connectionString)![1]!;

const STORE_FIELDS = 'id name kind isDefault path container accountName endpoint credentials { isSet fingerprint }';
const BACKUP_FIELDS = `id status failureReason backupName serviceName store { name kind }`;

async function createStore(input: Record<string, unknown>) {
  return mutate(gql, 'createBackupStore', input, STORE_FIELDS);
}

async function azureStore(name: string, container = name) {
  return createStore({ name, kind: 'AZURE_BLOB', credentials: connectionString, container });
}

async function backupInto(serviceId: string, extra: Record<string, unknown> = {}) {
  const created = await gql(
    `mutation ($input: CreateBackupInput!) { createBackup(input: $input) { __typename ... on CreateBackupSuccess { backup { id } } ... on Error { code message } ... on ValidationError { fields { path message } } } }`,
    { input: { serviceId, ...extra } },
  );
  const result = created.data.createBackup;
  if (!result.backup) return result;
  return until(
    async () =>
      (await gql(`query ($id: ID!) { backup(id: $id) { ${BACKUP_FIELDS} } }`, { id: result.backup.id })).data.backup,
    (b) => !['PENDING', 'RUNNING'].includes(b.status),
  );
}

const verify = async (id: string) =>
  (
    await gql(
      'mutation ($id: ID!) { verifyBackup(input: { backupId: $id }) { ... on VerifyBackupSuccess { backup { status failureReason } } ... on Error { code message } } }',
      { id },
    )
  ).data.verifyBackup;

describe('backup stores', () => {
  it('keeps a backup in the default DIRECTORY store under DATA_DIR with no configuration, named <service>-<yyyyMMdd>-<HHmmss>', async () => {
    const serviceId = await createService(gql, 'dir-default');
    const backup = await backupInto(serviceId);
    expect(backup).toMatchObject({ status: 'SUCCEEDED', store: { name: 'default', kind: 'DIRECTORY' } });
    expect(backup.backupName).toMatch(/^dir-default-\d{8}-\d{6}$/);
    const stores = (await gql(`{ backupStores { ${STORE_FIELDS} } }`)).data.backupStores;
    expect(stores[0]).toMatchObject({
      name: 'default',
      kind: 'DIRECTORY',
      isDefault: true,
      path: file.server.app.runtime.backupStores.defaultPath,
      credentials: null,
    });
    expect(readdirSync(join(stores[0].path, backup.backupName)).sort()).toEqual(['chunk-000000', 'manifest.json']);
  });

  it('backs up to Azure Blob Storage (Azurite) under a chosen name, and shows the account, never the key', async () => {
    const store = await azureStore('azure-main');
    expect(store).toMatchObject({
      name: 'azure-main',
      kind: 'AZURE_BLOB',
      isDefault: false,
      path: null,
      container: 'azure-main',
      accountName: 'devstoreaccount1',
      credentials: { isSet: true, fingerprint: expect.stringMatching(/^hmac-sha256:/) },
    });
    expect(store.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/azure-main$/);
    const serviceId = await createService(gql, 'to-azure');
    const backup = await backupInto(serviceId, { storeId: store.id, backupName: 'to-azure-first' });
    expect(backup).toMatchObject({
      status: 'SUCCEEDED',
      backupName: 'to-azure-first',
      store: { name: 'azure-main', kind: 'AZURE_BLOB' },
    });
    expect(await verify(backup.id)).toEqual({ backup: { status: 'SUCCEEDED', failureReason: null } });
    const again = await backupInto(serviceId, { storeId: store.id, backupName: 'to-azure-first' });
    expect(again).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      message: 'input.backupName: store "azure-main" already holds a backup of this name',
      fields: [{ path: ['input', 'backupName'], message: 'store "azure-main" already holds a backup of this name' }],
    });
    const everything = JSON.stringify([await gql(`{ backupStores { ${STORE_FIELDS} } }`), file.server.logs]);
    expect(everything).not.toContain(ACCOUNT_KEY);
  });

  it('refuses a backup name that is not a container name', async () => {
    const serviceId = await createService(gql, 'bad-names');
    for (const backupName of ['ab', 'Upper-case', 'double--hyphen', '-leading', 'x'.repeat(64)]) {
      const refused = await backupInto(serviceId, { backupName });
      expect(refused.fields).toEqual([
        {
          path: ['input', 'backupName'],
          message:
            'must be 3 to 63 characters: lowercase letters, digits and single hyphens, starting and ending with a letter or digit',
        },
      ]);
    }
  });

  it('refuses a DIRECTORY store the server cannot write, and AZURE_BLOB credentials that do not parse, without echoing them', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'bt-store-'));
    writeFileSync(join(parent, 'a-file'), '');
    expect(await createStore({ name: 'unwritable', kind: 'DIRECTORY', path: join(parent, 'a-file', 'below') })).toEqual(
      {
        __typename: 'ValidationError',
        code: 'VALIDATION_FAILED',
        message: 'input.path: cannot be written by the server (ENOTDIR)',
        fields: [{ path: ['input', 'path'], message: 'cannot be written by the server (ENOTDIR)' }],
      },
    );
    const garbage = await createStore({
      name: 'garbage',
      kind: 'AZURE_BLOB',
      credentials: 'AccountKey=s3cr3t-not-a-cs',
    });
    expect(garbage.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(garbage)).not.toContain('s3cr3t');
    const made = await createStore({ name: 'scratch-dir', kind: 'DIRECTORY', path: join(parent, 'backups') });
    expect(made).toMatchObject({ name: 'scratch-dir', kind: 'DIRECTORY', path: join(parent, 'backups') });
    expect(existsSync(join(parent, 'backups'))).toBe(true);
  });

  it('finds a changed, missing, swapped or extra object: the backup is CORRUPT and never restored', async () => {
    const store = await azureStore('tamper');
    const serviceId = await createService(gql, 'tampered-store');
    const rt = file.server.app.runtime;
    const backups = [];
    for (const name of ['tamper-a', 'tamper-b', 'tamper-c', 'tamper-d', 'tamper-e'])
      backups.push(await backupInto(serviceId, { storeId: store.id, backupName: name }));
    const [changed, extra, swappedA, swappedB, missing] = backups;
    await damageChunk(rt, changed.id);
    const extraStore = (await storedBackup(rt, extra.id)).store;
    await extraStore.put('tamper-b/chunk-000001', Buffer.from('more'));
    const a = await extraStore.get(manifestKey('tamper-c'));
    await extraStore.put(manifestKey('tamper-c'), await extraStore.get(manifestKey('tamper-d')));
    await extraStore.put(manifestKey('tamper-d'), a);
    await extraStore.put(manifestKey('tamper-e'), Buffer.from('{}'));
    for (const b of [changed, extra, swappedA, swappedB, missing])
      expect(await verify(b.id)).toEqual({
        backup: {
          status: 'CORRUPT',
          failureReason: 'Verification failed: the stored content does not match its checksum',
        },
      });
    const planned = await gql(
      'mutation ($input: CreateRestorePlanInput!) { createRestorePlan(input: $input) { ... on CreateRestorePlanSuccess { plan { checks { code } } } } }',
      { input: { backupId: changed.id, targetName: 'never-restored' } },
    );
    expect(planned.data.createRestorePlan.plan.checks.map((c: any) => c.code)).toContain('BACKUP_NOT_RESTORABLE');
  });

  it('keeps backups taken before stores existed listed, verifiable and restorable', async () => {
    const built = await buildService(gql, 'old-style');
    const backup = await backupInto(built.serviceId);
    const rt = file.server.app.runtime;
    await makeLegacy(rt, backup.id);
    const listed = (await gql(`query ($id: ID!) { backup(id: $id) { ${BACKUP_FIELDS} } }`, { id: backup.id })).data
      .backup;
    expect(listed).toMatchObject({ status: 'SUCCEEDED', store: null, backupName: null });
    expect(await verify(backup.id)).toEqual({ backup: { status: 'SUCCEEDED', failureReason: null } });
    const restored = await restore(backup.id, 'old-style-back');
    const before = await serviceContents(gql, built.serviceId);
    const after = await serviceContents(gql, restored);
    expect(after.partners).toEqual(before.partners);
    expect(after.settings).toEqual(before.settings);
  });

  it('renames a store and rotates its credentials, showing only the new fingerprint; the default store stays as it is', async () => {
    const store = await azureStore('rotating');
    const rotated = await mutate(
      gql,
      'updateBackupStore',
      { storeId: store.id, name: 'rotated', credentials: `${connectionString}EndpointSuffix=core.windows.net;` },
      STORE_FIELDS,
    );
    expect(rotated).toMatchObject({ name: 'rotated', container: 'rotating', credentials: { isSet: true } });
    expect(rotated.credentials.fingerprint).not.toBe(store.credentials.fingerprint);
    const [fallback] = (await gql('{ backupStores { id } }')).data.backupStores;
    expect(await mutate(gql, 'updateBackupStore', { storeId: fallback.id, name: 'mine' })).toEqual({
      __typename: 'InvalidStateError',
      code: 'INVALID_STATE',
      message: "The deployment's default store follows DATA_DIR and cannot be changed",
    });
  });

  it('refuses to delete a store while backups live in it, and deletes an empty one', async () => {
    const store = await azureStore('short-lived');
    const serviceId = await createService(gql, 'short-lived-svc');
    const backup = await backupInto(serviceId, { storeId: store.id });
    expect(await mutate(gql, 'deleteBackupStore', { storeId: store.id })).toEqual({
      __typename: 'InvalidStateError',
      code: 'INVALID_STATE',
      message: '1 backup(s) live in this store; delete them (or their registration) first',
    });
    const deleted = await gql('mutation ($id: ID!) { deleteBackup(input: { backupId: $id }) { __typename } }', {
      id: backup.id,
    });
    expect(deleted.data.deleteBackup.__typename).toBe('DeleteBackupSuccess');
    expect(await storedObjects(store.id)).toEqual([]);
    expect(await mutate(gql, 'deleteBackupStore', { storeId: store.id })).toEqual({
      __typename: 'DeleteBackupStoreSuccess',
      deletedId: store.id,
    });
  });
});

describe('faults', () => {
  it('fails a backup whose store is unreachable, naming the store and never its credentials, and leaves no objects', async () => {
    const unreachable = connectionString.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:9');
    const store = await createStore({ name: 'nowhere', kind: 'AZURE_BLOB', credentials: unreachable });
    const serviceId = await createService(gql, 'unreachable-svc');
    const backup = await backupInto(serviceId, { storeId: store.id });
    expect(backup).toMatchObject({
      status: 'FAILED',
      failureReason: 'The backup could not be written: Backup store "nowhere" failed: ECONNREFUSED',
    });
    expect(JSON.stringify(file.server.logs)).not.toContain(ACCOUNT_KEY);
  });

  it('removes what a backup wrote when its store fails part way', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'bt-fail-'));
    const store = await createStore({ name: 'fails-later', kind: 'DIRECTORY', path: parent });
    const serviceId = await createService(gql, 'fails-later-svc');
    // The manifest's place is taken by a directory: the chunks are written, then the manifest fails.
    mkdirSync(join(parent, 'half-written', 'manifest.json'), { recursive: true });
    const backup = await backupInto(serviceId, { storeId: store.id, backupName: 'half-written' });
    expect(backup).toMatchObject({
      status: 'FAILED',
      failureReason: 'The backup could not be written: Backup store "fails-later" failed: EISDIR',
    });
    expect(readdirSync(parent)).toEqual([]);
  });

  it('refuses to delete the objects of a locked backup in the store layer too', async () => {
    const serviceId = await createService(gql, 'locked-objects');
    const backup = await backupInto(serviceId);
    const until = new Date(Date.now() + 86_400_000).toISOString();
    await gql('mutation ($input: LockBackupInput!) { lockBackup(input: $input) { __typename } }', {
      input: { backupId: backup.id, until, reason: 'legal hold' },
    });
    const { store, row } = await storedBackup(file.server.app.runtime, backup.id);
    await expect(store.deletePrefix(`${row.backupName}/`)).rejects.toMatchObject({ code: 'BACKUP_LOCKED' });
    expect((await store.list(`${row.backupName}/`)).length).toBe(2);
  });
});

describe('copies and imports', () => {
  it('copies a backup into a second store, verified, as a restorable backup of its own', async () => {
    const primary = await azureStore('copy-from');
    const secondary = await createStore({
      name: 'copy-to',
      kind: 'DIRECTORY',
      path: mkdtempSync(join(tmpdir(), 'bt-copy-')),
    });
    const built = await buildService(gql, 'copied-svc');
    const backup = await backupInto(built.serviceId, { storeId: primary.id });
    const copy = (
      await gql(
        'mutation ($input: CopyBackupInput!) { copyBackup(input: $input) { ... on CopyBackupSuccess { backup { id status backupName verifiedAt store { name } } } ... on Error { code message } } }',
        { input: { backupId: backup.id, storeId: secondary.id } },
      )
    ).data.copyBackup.backup;
    expect(copy).toMatchObject({
      status: 'SUCCEEDED',
      backupName: backup.backupName,
      store: { name: 'copy-to' },
      verifiedAt: expect.any(String),
    });
    expect(copy.id).not.toBe(backup.id);
    const restored = await restore(copy.id, 'copied-back');
    expect((await serviceContents(gql, restored)).agreements).toEqual(
      (await serviceContents(gql, built.serviceId)).agreements,
    );
  });

  it('lists a backup written under another ENCRYPTION_KEY as UNREADABLE, and refuses to plan it', async () => {
    const store = await azureStore('foreign');
    const rt = file.server.app.runtime;
    const { store: objects } = await storedBackup(
      rt,
      (await backupInto(await createService(gql, 'foreign-probe'), { storeId: store.id })).id,
    );
    const otherKey = createSecretBox(randomBytes(32));
    await objects.put(
      manifestKey('elsewhere-20261201-101500'),
      encodeManifest(otherKey, {
        formatVersion: 1,
        backupId: '00000000-0000-4000-8000-000000000001',
        backupName: 'elsewhere-20261201-101500',
        kind: 'SCHEDULED',
        label: null,
        service: { id: null, name: 'elsewhere', edition: 'STANDARD', region: 'westeurope' },
        createdAt: '2026-12-01T10:15:00.000Z',
        completedAt: '2026-12-01T10:15:01.000Z',
        sizeBytes: 1,
        storedBytes: 1,
        checksum: '0'.repeat(64),
        itemCounts: [],
        excluded: [],
        hybridConnectionNames: [],
        warnings: [],
        allowBatchMessageLoss: false,
        chunks: [],
      }),
    );
    const importBackups = async (fields: string) =>
      (
        await gql(
          `mutation ($id: ID!) { importBackups(input: { storeId: $id }) { ... on ImportBackupsSuccess { backups { ${fields} } } ... on Error { code message } } }`,
          { id: store.id },
        )
      ).data.importBackups.backups;
    const imported = await importBackups('status serviceName failureReason');
    expect(imported).toEqual([
      {
        status: 'UNREADABLE',
        serviceName: 'elsewhere',
        failureReason:
          "The manifest's signature does not match this deployment's ENCRYPTION_KEY: it was written under another key (or changed since). Restore it in a deployment that has the key it was written with.",
      },
    ]);
    expect(await importBackups('status')).toEqual([]);
    const listed = await gql('{ backups(status: UNREADABLE) { edges { node { id } } } }');
    const planned = await gql(
      'mutation ($input: CreateRestorePlanInput!) { createRestorePlan(input: $input) { __typename ... on Error { code message } } }',
      { input: { backupId: listed.data.backups.edges[0].node.id, targetName: 'from-elsewhere' } },
    );
    expect(planned.data.createRestorePlan).toEqual({
      __typename: 'BackupUnreadableError',
      code: 'BACKUP_UNREADABLE',
      message: `This backup cannot be read here: ${imported[0].failureReason}`,
    });
  });
});

/** Every object in a store, by key. */
async function storedObjects(storeGlobalId: string) {
  const rt = file.server.app.runtime;
  const { storeById } = await import('../src/backup/store-service.js');
  const id = Buffer.from(storeGlobalId, 'base64').toString().split(':')[1]!;
  return (await (await rt.backupStores.open(await storeById(rt.database.db, id))).list('')).map((o) => o.key);
}

/** Plans and executes a restore of a backup into a new service; the new service's global id once SUSPENDED. */
async function restore(backupId: string, targetName: string): Promise<string> {
  const planned = await gql(
    'mutation ($input: CreateRestorePlanInput!) { createRestorePlan(input: $input) { __typename ... on CreateRestorePlanSuccess { plan { id checks { code severity } } } ... on Error { code message } } }',
    { input: { backupId, targetName } },
  );
  const plan = planned.data.createRestorePlan.plan;
  expect(plan.checks.filter((c: any) => c.severity === 'BLOCKER')).toEqual([]);
  await gql('mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename } }', { id: plan.id });
  const done = await until(
    () => gql('query ($id: ID!) { restorePlan(id: $id) { state failureReason service { id } } }', { id: plan.id }),
    (r) => !['PLANNED', 'RESTORING'].includes(r.data.restorePlan.state),
    20_000,
  );
  expect(done.data.restorePlan).toMatchObject({ state: 'SUSPENDED', failureReason: null });
  return done.data.restorePlan.service.id;
}
