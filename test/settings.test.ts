import { allStoredBytes } from './helpers/stored-backups.js';
import { eq, sql } from 'drizzle-orm';
import { backupStores } from '../src/backup/tables.js';
import { describe, expect, it } from 'vitest';
import { CREATE_SERVICE, lifecycle } from './helpers/operations.js';
import { useTestServer } from './helpers/server.js';

const MARKER = 'MARKER-s3cr3t-7f1d';
const SETTINGS = `mutation ($input: UpdateServiceSettingsInput!) {
  updateServiceSettings(input: $input) {
    __typename
    ... on Error { code message }
    ... on ValidationError { fields { path message } }
    ... on UpdateServiceSettingsSuccess { service { settings {
      acsNamespace
      acsIssuerKey { isSet fingerprint updatedAt }
      trackingDatabaseConnectionString { isSet fingerprint }
      archivingStorageConnectionString { isSet fingerprint }
      monitoringStorageConnectionString { isSet fingerprint }
      sslCertificate { isSet fingerprint }
    } } }
  }
}`;

const file = useTestServer();
const bodies: string[] = [];

async function gql(query: string, variables?: Record<string, unknown>) {
  const result = await file.server.gql(query, variables);
  bodies.push(JSON.stringify(result));
  return result;
}

async function premiumService(name: string) {
  return (await gql(CREATE_SERVICE, { input: { name, edition: 'PREMIUM', region: 'westeurope' } })).data.createService
    .service.id as string;
}

const allSecrets = (value: string) => ({
  acsIssuerKey: `${value}-acs`,
  trackingDatabaseConnectionString: `Server=tcp:db;Password=${value}`,
  archivingStorageConnectionString: `AccountKey=${value}-archive`,
  monitoringStorageConnectionString: `AccountKey=${value}-monitor`,
  sslCertificate: { pfxBase64: Buffer.from(`${value}-pfx`).toString('base64'), password: `${value}-pfx-password` },
});

describe('service settings and secrets', () => {
  it('stores every secret and shows only whether it is set, a fingerprint and when', async () => {
    const id = await premiumService('secret-keeper');
    const { data } = await gql(SETTINGS, {
      input: { serviceId: id, acsNamespace: 'contoso-acs', ...allSecrets(MARKER) },
    });
    const settings = data.updateServiceSettings.service.settings;
    expect(settings.acsNamespace).toBe('contoso-acs');
    for (const key of [
      'acsIssuerKey',
      'trackingDatabaseConnectionString',
      'archivingStorageConnectionString',
      'monitoringStorageConnectionString',
      'sslCertificate',
    ]) {
      expect(settings[key]).toMatchObject({
        isSet: true,
        fingerprint: expect.stringMatching(/^hmac-sha256:[0-9a-f]{16}$/),
      });
    }
    expect(Date.now() - Date.parse(settings.acsIssuerKey.updatedAt)).toBeLessThan(60_000);
  });

  it('gives equal values equal fingerprints, so a rotation can be checked without seeing the secret', async () => {
    const a = await premiumService('fingerprint-a');
    const b = await premiumService('fingerprint-b');
    const set = async (id: string, acsIssuerKey: string) =>
      (await gql(SETTINGS, { input: { serviceId: id, acsIssuerKey } })).data.updateServiceSettings.service.settings
        .acsIssuerKey.fingerprint;
    const first = await set(a, `${MARKER}-same`);
    expect(await set(b, `${MARKER}-same`)).toBe(first);
    expect(await set(b, `${MARKER}-rotated`)).not.toBe(first);
  });

  it('keeps a secret that is left out and clears one set to null', async () => {
    const id = await premiumService('secret-clearing');
    await gql(SETTINGS, { input: { serviceId: id, ...allSecrets(MARKER) } });
    const { data } = await gql(SETTINGS, { input: { serviceId: id, acsIssuerKey: null } });
    const settings = data.updateServiceSettings.service.settings;
    expect(settings.acsIssuerKey).toEqual({ isSet: false, fingerprint: null, updatedAt: null });
    expect(settings.trackingDatabaseConnectionString.isSet).toBe(true);
  });

  it('refuses an archiving account on an edition without archiving, naming the field', async () => {
    const id = (await gql(CREATE_SERVICE, { input: { name: 'basic-no-archive', edition: 'BASIC', region: 'westus' } }))
      .data.createService.service.id;
    const { data } = await gql(SETTINGS, {
      input: { serviceId: id, archivingStorageConnectionString: `AccountKey=${MARKER}` },
    });
    expect(data.updateServiceSettings).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      message:
        'input.archivingStorageConnectionString: the BASIC edition has no archiving; only DEVELOPER and PREMIUM do',
      fields: [
        {
          path: ['input', 'archivingStorageConnectionString'],
          message: 'the BASIC edition has no archiving; only DEVELOPER and PREMIUM do',
        },
      ],
    });
  });

  it('refuses an SSL certificate that is not base64', async () => {
    const id = await premiumService('bad-pfx');
    const { data } = await gql(SETTINGS, {
      input: { serviceId: id, sslCertificate: { pfxBase64: 'not base64!', password: MARKER } },
    });
    expect(data.updateServiceSettings).toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ path: ['input', 'sslCertificate', 'pfxBase64'], message: 'must be non-empty base64' }],
    });
  });

  it('leaves settings unchanged when the update is refused', async () => {
    const id = await premiumService('refused-update');
    await gql(SETTINGS, { input: { serviceId: id, acsIssuerKey: `${MARKER}-kept` } });
    const before = (
      await gql('query ($id: ID!) { node(id: $id) { ... on Service { settings { acsIssuerKey { fingerprint } } } } }', {
        id,
      })
    ).data.node;
    await gql(lifecycle('stopService'), { id });
    const refused = await gql(SETTINGS, { input: { serviceId: id, acsIssuerKey: `${MARKER}-new` } });
    expect(refused.data.updateServiceSettings.code).toBe('INVALID_STATE');
    const after = (
      await gql('query ($id: ID!) { node(id: $id) { ... on Service { settings { acsIssuerKey { fingerprint } } } } }', {
        id,
      })
    ).data.node;
    expect(after).toEqual(before);
  });

  it('never lets a secret out: not in any response, log line, or the database in plaintext', async () => {
    expect(bodies.length).toBeGreaterThan(10);
    for (const body of bodies) expect(body).not.toContain(MARKER);
    expect(file.server.logs.length).toBeGreaterThan(0);
    for (const line of file.server.logs) expect(line).not.toContain(MARKER);
    const stored = await file.server.app.runtime.database.db.execute(
      sql`select sealed, fingerprint from service_secrets`,
    );
    expect(JSON.stringify(stored)).not.toContain(MARKER);
    expect(JSON.stringify(stored)).not.toContain(Buffer.from(MARKER).toString('base64').slice(0, 12));
  });
});

describe('no secret ever leaves the server', () => {
  it('keeps a marker set in every secret field out of responses, logs, the audit log, errors and stored backups', async () => {
    const id = await premiumService('leak-check');
    await gql(SETTINGS, { input: { serviceId: id, acsNamespace: 'leakns', ...allSecrets(MARKER) } });
    const certificate = await gql(
      'mutation ($input: CreateCertificateInput!) { createCertificate(input: $input) { __typename ... on CreateCertificateSuccess { certificate { name privateKey { isSet fingerprint } } } } }',
      {
        input: {
          serviceId: id,
          name: 'signing',
          contentBase64: Buffer.from('cert').toString('base64'),
          privateKeyBase64: Buffer.from(`${MARKER}-private-key`).toString('base64'),
        },
      },
    );
    expect(certificate.data.createCertificate.certificate.privateKey.isSet).toBe(true);
    // Errors with the marker in their input do not echo it.
    await gql(SETTINGS, { input: { serviceId: id, sslCertificate: { pfxBase64: `${MARKER}!`, password: MARKER } } });
    await gql(SETTINGS, { input: { serviceId: 'U2VydmljZTpub3BlPQ==', acsIssuerKey: MARKER } });
    const backup = await gql(
      'mutation ($id: ID!) { createBackup(input: { serviceId: $id }) { ... on CreateBackupSuccess { backup { id } } } }',
      { id },
    );
    const backupId = backup.data.createBackup.backup.id;
    for (let i = 0; i < 100; i++) {
      if (
        (await gql('query ($id: ID!) { backup(id: $id) { status } }', { id: backupId })).data.backup.status ===
        'SUCCEEDED'
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const db = file.server.app.runtime.database.db;
    const needles = [
      MARKER,
      Buffer.from(`${MARKER}-pfx`).toString('base64'),
      Buffer.from(`${MARKER}-private-key`).toString('base64'),
    ];
    const audit = JSON.stringify(await db.execute(sql`select * from audit_log`));
    const rt = file.server.app.runtime;
    const [defaultStore] = await db.select().from(backupStores).where(eq(backupStores.isDefault, true));
    const stored = await allStoredBytes(await rt.backupStores.open(defaultStore!));
    for (const needle of needles) {
      for (const body of bodies) expect(body).not.toContain(needle);
      for (const line of file.server.logs) expect(line).not.toContain(needle);
      expect(audit).not.toContain(needle);
      expect(stored.includes(Buffer.from(needle))).toBe(false);
    }
    expect(audit).toContain('updateServiceSettings');
  });
});
