import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { runDueSchedules } from '../src/backup/schedule.js';
import { FORMAT_VERSION } from '../src/backup/format.js';
import { runBackup } from '../src/backup/service.js';
import { backupChunks, backupSchedules, backups } from '../src/backup/tables.js';
import { services } from '../src/service/tables.js';
import { byteaValues } from '../src/db/copy.js';
import { buildService, createService } from './helpers/artifacts.js';
import { lifecycle, rawId } from './helpers/operations.js';
import { collect, useTestServer } from './helpers/server.js';
import { until } from './helpers/wait.js';
import {
  allStoredBytes,
  damageChunk,
  makeLegacy,
  records as storedRecords,
  storedBackup,
} from './helpers/stored-backups.js';
import { readBackup } from '../src/backup/objects.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const MARKER = 'MARKER-backup-s3cr3t-91';
// Schedules here fire every second: the editions' minimum interval (issue 16) is lowered for them.
const file = useTestServer({ SCHEDULER_INTERVAL_MS: '200', SCHEDULE_MIN_INTERVAL_SECONDS: '1' });
const gql = (q: string, v?: Record<string, unknown>) => file.server.gql(q, v);

const BACKUP_FIELDS =
  'id serviceName edition region kind status label sizeBytes storedBytes checksum pinned warnings excluded itemCounts { category count } failureReason verifiedAt';
const CREATE_BACKUP = `mutation ($input: CreateBackupInput!) { createBackup(input: $input) {
  __typename
  ... on CreateBackupSuccess { backup { ${BACKUP_FIELDS} } }
  ... on Error { code message }
  ... on ActiveBatchMessagesError { batches { agreementName messageCount } }
} }`;
const PROCESS =
  'mutation ($id: ID!, $p: String) { processEdiMessage(input: { agreementId: $id, payload: $p }) { __typename } }';

async function backup(id: string) {
  return (await gql(`query ($id: ID!) { backup(id: $id) { ${BACKUP_FIELDS} } }`, { id })).data.backup;
}

async function finishedBackup(input: Record<string, unknown>) {
  const created = (await gql(CREATE_BACKUP, { input })).data.createBackup;
  if (!created.backup) return created;
  return until(
    () => backup(created.backup.id),
    (b) => !['PENDING', 'RUNNING'].includes(b.status),
  );
}

/** The records of a backup, decrypted and decompressed, as a restore would read them. */
function records(backupId: string) {
  return storedRecords(file.server.app.runtime, backupId);
}

async function withSecrets(serviceId: string) {
  await gql('mutation ($input: UpdateServiceSettingsInput!) { updateServiceSettings(input: $input) { __typename } }', {
    input: {
      serviceId,
      acsNamespace: 'contoso',
      acsIssuerKey: `${MARKER}-acs`,
      trackingDatabaseConnectionString: `Password=${MARKER}`,
      monitoringStorageConnectionString: `Key=${MARKER}`,
      sslCertificate: { pfxBase64: Buffer.from(`${MARKER}-pfx`).toString('base64'), password: `${MARKER}-pw` },
    },
  });
}

describe('createBackup', () => {
  it('captures everything the seed lists, says what it leaves out, and returns at once', async () => {
    const built = await buildService(gql, 'backed-up');
    await withSecrets(built.serviceId);
    for (let i = 0; i < 3; i++) await gql(PROCESS, { id: built.agreements.as2, p: `as2 message ${i}` });
    await gql(PROCESS, { id: built.agreements.edifact });
    const created = (await gql(CREATE_BACKUP, { input: { serviceId: built.serviceId, label: 'before migration' } }))
      .data.createBackup.backup;
    expect(created).toMatchObject({
      status: 'PENDING',
      kind: 'ON_DEMAND',
      label: 'before migration',
      serviceName: 'backed-up',
      edition: 'STANDARD',
      region: 'westeurope',
      pinned: false,
    });
    const done = await until(
      () => backup(created.id),
      (b) => b.status === 'SUCCEEDED',
    );
    expect(done.itemCounts).toEqual([
      { category: 'SERVICE_SETTINGS', count: 1 },
      { category: 'SSL_CERTIFICATE', count: 1 },
      { category: 'PARTNERS', count: 2 },
      { category: 'PROFILES', count: 2 },
      { category: 'AGREEMENTS', count: 3 },
      { category: 'CUSTOM_ASSEMBLIES', count: 1 },
      { category: 'BRIDGES', count: 1 },
      { category: 'CERTIFICATES', count: 1 },
      { category: 'TRANSFORMS', count: 1 },
      { category: 'PIPELINES', count: 1 },
      { category: 'TEMPLATES', count: 1 },
      { category: 'X12_MAPPINGS', count: 1 },
      { category: 'CONTROL_NUMBERS', count: 3 },
      { category: 'AS2_MIC_VALUES', count: 3 },
    ]);
    expect(done.excluded).toEqual([
      'Hybrid connections (never backed up; recreate them): onprem-sql',
      'Tracking data (the tracking database is not backed up; only its connection string is)',
      'Batch messages (messages waiting in batches are never backed up)',
    ]);
    expect(done.warnings).toEqual([]);
    expect(done.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(done.sizeBytes).toBeGreaterThan(done.storedBytes / 4);

    const content = await records(created.id);
    expect(content[0]).toMatchObject({
      type: 'header',
      format: 'biztalk-backup',
      version: 1,
      service: { name: 'backed-up', edition: 'STANDARD', region: 'westeurope' },
    });
    const of = (category: string) => content.filter((r) => r.category === category).map((r) => r.data);
    expect(of('SERVICE_SETTINGS')[0]).toMatchObject({
      edition: 'STANDARD',
      scaleUnitCount: 1,
      productVersion: '1.0',
      region: 'westeurope',
      acsNamespace: 'contoso',
    });
    expect(
      of('SERVICE_SETTINGS')[0]
        .secrets.map((s: any) => s.kind)
        .sort(),
    ).toEqual(['ACS_ISSUER_KEY', 'MONITORING_STORAGE_CONNECTION_STRING', 'TRACKING_DATABASE_CONNECTION_STRING']);
    expect(
      of('PROFILES')
        .map((p) => `${p.qualifier}:${p.identifier}`)
        .sort(),
    ).toEqual(['ZZ:CONTOSO', 'ZZ:FABRIKAM']);
    expect(
      of('CONTROL_NUMBERS')
        .map((c) => c.interchange)
        .sort(),
    ).toEqual([0, 1, 3]);
    expect(of('CUSTOM_ASSEMBLIES')[0]).toMatchObject({
      name: 'Contoso.Maps',
      version: '1.0.0.0',
      content: Buffer.from('MZ assembly').toString('base64'),
    });
    expect(JSON.stringify(content)).not.toContain('onprem-sql.contoso'); // hybrid connection hosts are not in it
    expect(JSON.stringify(content)).not.toContain('sql01.contoso.local');
  });

  it('keeps secrets encrypted: no plaintext secret in the stored bytes, nor in the decrypted content', async () => {
    const serviceId = await createService(gql, 'secret-backup', 'PREMIUM');
    await withSecrets(serviceId);
    const done = await finishedBackup({ serviceId });
    const stored = await allStoredBytes((await storedBackup(file.server.app.runtime, done.id)).store);
    for (const needle of [MARKER, Buffer.from(`${MARKER}-pfx`).toString('base64')]) {
      expect(stored.includes(Buffer.from(needle))).toBe(false);
      expect(JSON.stringify(await records(done.id))).not.toContain(needle);
    }
  });

  it('refuses while batches hold messages, naming them, and backs up with a warning when told to', async () => {
    const built = await buildService(gql, 'batch-guard');
    await gql(PROCESS, { id: built.agreements.x12 });
    await gql(PROCESS, { id: built.agreements.x12 });
    expect((await gql(CREATE_BACKUP, { input: { serviceId: built.serviceId } })).data.createBackup).toEqual({
      __typename: 'ActiveBatchMessagesError',
      code: 'ACTIVE_BATCH_MESSAGES',
      message:
        '2 message(s) wait in batches (Contoso-Fabrikam X12: 2); release the batches first, or pass allowBatchMessageLoss: true to back up without them (they would be lost on restore)',
      batches: [{ agreementName: 'Contoso-Fabrikam X12', messageCount: 2 }],
    });
    const done = await finishedBackup({ serviceId: built.serviceId, allowBatchMessageLoss: true });
    expect(done.status).toBe('SUCCEEDED');
    expect(done.warnings).toEqual(['2 batch message(s) were not kept: they are lost if this backup is restored']);
    expect(JSON.stringify(await records(done.id))).not.toContain('batch_messages');
  });

  it('refuses a FREE service and a deleted one', async () => {
    const free = await createService(gql, 'free-backup', 'FREE');
    expect((await gql(CREATE_BACKUP, { input: { serviceId: free } })).data.createBackup).toEqual({
      __typename: 'EditionWithoutBackupRestoreError',
      code: 'EDITION_WITHOUT_BACKUP_RESTORE',
      message: 'The FREE edition does not support backup and restore; scale up to DEVELOPER or higher',
    });
    const gone = await createService(gql, 'gone-backup');
    await gql(lifecycle('deleteService'), { id: gone });
    expect((await gql(CREATE_BACKUP, { input: { serviceId: gone } })).data.createBackup).toMatchObject({
      code: 'INVALID_STATE',
      message: 'Cannot backup service "gone-backup" while it is DELETED; allowed in: ACTIVE, STOPPED, SUSPENDED',
    });
  });

  it('is the state of one moment even while messages flow during the snapshot', async () => {
    const built = await buildService(gql, 'busy-service');
    const send = (n: number) =>
      Promise.all(Array.from({ length: n }, (_, i) => gql(PROCESS, { id: built.agreements.as2, p: `m${i}` })));
    for (let i = 0; i < 6; i++) await send(100); // enough MIC values for several pages
    const traffic = send(300);
    const done = await finishedBackup({ serviceId: built.serviceId });
    await traffic;
    const content = await records(done.id);
    const lineage = content.find((r) => r.category === 'AGREEMENTS' && r.data.protocol === 'AS2').data.id;
    const interchange = content.find((r) => r.category === 'CONTROL_NUMBERS' && r.data.agreementId === lineage).data
      .interchange;
    const mics = content.filter((r) => r.category === 'AS2_MIC_VALUES' && r.data.agreementId === lineage).length;
    expect(mics).toBe(interchange); // every message adds one MIC and one interchange number atomically
    expect(interchange).toBeGreaterThanOrEqual(600);
  });

  it('publishes PENDING, RUNNING and SUCCEEDED on backupStatusChanged', async () => {
    const serviceId = await createService(gql, 'watched-backup');
    const sub = collect(
      file.server.ws(),
      'subscription ($id: ID) { backupStatusChanged(serviceId: $id) { previousStatus status backup { serviceName } } }',
      { id: serviceId },
      3,
    );
    await sub.ready;
    await gql(CREATE_BACKUP, { input: { serviceId } });
    expect((await sub.done).map((e) => e.backupStatusChanged)).toEqual([
      { previousStatus: null, status: 'PENDING', backup: { serviceName: 'watched-backup' } },
      { previousStatus: 'PENDING', status: 'RUNNING', backup: { serviceName: 'watched-backup' } },
      { previousStatus: 'RUNNING', status: 'SUCCEEDED', backup: { serviceName: 'watched-backup' } },
    ]);
  });

  it('leaves a backup another instance declared interrupted as it is: no snapshot taken, nothing overwritten', async () => {
    const serviceId = rawId(await createService(gql, 'declared-dead'));
    const { db } = file.server.app.runtime.database;
    const [service] = await db.select().from(services).where(eq(services.id, serviceId));
    const [row] = await db
      .insert(backups)
      .values({
        serviceId,
        serviceName: service!.name,
        edition: service!.edition,
        region: service!.region,
        kind: 'ON_DEMAND',
        status: 'FAILED',
        failureReason: 'Interrupted: the server running it stopped',
        formatVersion: FORMAT_VERSION,
      })
      .returning();
    const after = await runBackup(file.server.app.runtime, { ...row!, status: 'PENDING' });
    expect([after.status, after.failureReason, after.startedAt, after.checksum]).toEqual([
      'FAILED',
      'Interrupted: the server running it stopped',
      null,
      null,
    ]);
    expect(await db.select().from(backupChunks).where(eq(backupChunks.backupId, row!.id))).toEqual([]);
  });
});

describe('verify, pin and delete', () => {
  it('verifies an intact backup, and marks one whose stored bytes changed CORRUPT for good', async () => {
    const serviceId = await createService(gql, 'tampered');
    const done = await finishedBackup({ serviceId });
    const verify = (id: string) =>
      gql(
        `mutation ($id: ID!) { verifyBackup(input: { backupId: $id }) { ... on VerifyBackupSuccess { backup { status verifiedAt failureReason } } } }`,
        { id },
      );
    const intact = (await verify(done.id)).data.verifyBackup.backup;
    expect(intact).toMatchObject({ status: 'SUCCEEDED', failureReason: null, verifiedAt: expect.any(String) });
    await damageChunk(file.server.app.runtime, done.id, 40, 1);
    expect((await verify(done.id)).data.verifyBackup.backup).toMatchObject({
      status: 'CORRUPT',
      failureReason: 'Verification failed: the stored content does not match its checksum',
    });
    await damageChunk(file.server.app.runtime, done.id, 40, -1);
    expect((await verify(done.id)).data.verifyBackup.backup.status).toBe('CORRUPT'); // never restorable again
  });

  it('marks a backup whose stored chunk is missing CORRUPT', async () => {
    const serviceId = await createService(gql, 'chunkless');
    const done = await finishedBackup({ serviceId });
    const { row } = await storedBackup(file.server.app.runtime, done.id);
    rmSync(join(file.server.app.runtime.backupStores.defaultPath, row.backupName!, 'chunk-000000'));
    const verified = await gql(
      `mutation ($id: ID!) { verifyBackup(input: { backupId: $id }) { ... on VerifyBackupSuccess { backup { status failureReason } } } }`,
      { id: done.id },
    );
    expect(verified.data.verifyBackup.backup).toEqual({
      status: 'CORRUPT',
      failureReason: 'Verification failed: the stored content does not match its checksum',
    });
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'stops the database reading a backup when its reader stops early: no COPY stays behind',
    async () => {
      const serviceId = await createService(gql, 'early-stop');
      for (let i = 0; i < 3; i++) {
        const content = randomBytes(3 * 1024 * 1024).toString('base64'); // incompressible: 9 MB of chunks
        await gql(
          'mutation ($s: ID!, $n: String!, $c: String!) { createCustomAssembly(input: { serviceId: $s, name: $n, version: "1.0.0.0", contentBase64: $c }) { __typename } }',
          { s: serviceId, n: `Big${i}`, c: content },
        );
      }
      const done = await finishedBackup({ serviceId });
      const rt = file.server.app.runtime;
      await makeLegacy(rt, done.id); // the COPY reader is that of backups kept in the database
      const id = rawId(done.id);
      const [row] = await rt.database.db.select().from(backups).where(eq(backups.id, id));
      const copying = async () => {
        const rows = await rt.database.db.execute<{ n: number }>(
          sql`select count(*)::int as n from pg_stat_activity where query like 'copy (select data from backup_chunks%'`,
        );
        return (Array.isArray(rows) ? rows : (rows as unknown as { rows: { n: number }[] }).rows)[0]!.n;
      };
      for await (const _line of readBackup(rt, row!)) {
        expect(await copying()).toBe(1); // the COPY is still sending the chunks
        break;
      }
      expect(await until(copying, (n) => n === 0, 5000)).toBe(0);
    },
  );

  it('reads chunks from PostgreSQL binary COPY data however its pieces are cut', async () => {
    const values = [Buffer.from('first chunk'), Buffer.alloc(0), Buffer.alloc(70_000, 7)];
    const int = (bits: 16 | 32, n: number) => {
      const b = Buffer.alloc(bits / 8);
      if (bits === 16) b.writeInt16BE(n);
      else b.writeInt32BE(n);
      return b;
    };
    const data = Buffer.concat([
      Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
      int(32, 0),
      int(32, 3),
      Buffer.from('ext'),
      ...values.flatMap((v) => [int(16, 1), int(32, v.length), v]),
      int(16, -1),
    ]);
    for (const size of [1, 5, 4096, data.length]) {
      const pieces = Array.from({ length: Math.ceil(data.length / size) }, (_, i) =>
        data.subarray(i * size, (i + 1) * size),
      );
      const read: Buffer[] = [];
      for await (const value of byteaValues(
        (async function* () {
          yield* pieces;
        })(),
      ))
        read.push(Buffer.from(value));
      expect(read).toEqual(values);
    }
    await expect(async () => {
      for await (const _ of byteaValues(
        (async function* () {
          yield data.subarray(0, data.length - 2);
        })(),
      ));
    }).rejects.toThrow('COPY: the data ended early');
  });

  it('refuses to delete a pinned backup, deletes it once unpinned, and keeps backups of a deleted service', async () => {
    const serviceId = await createService(gql, 'pinned-backup');
    const first = await finishedBackup({ serviceId });
    const second = await finishedBackup({ serviceId });
    const stored = await storedBackup(file.server.app.runtime, first.id);
    const pin = (id: string, pinned: boolean) =>
      gql(
        'mutation ($id: ID!, $p: Boolean!) { pinBackup(input: { backupId: $id, pinned: $p }) { ... on PinBackupSuccess { backup { pinned } } } }',
        { id, p: pinned },
      );
    const remove = (id: string) =>
      gql(
        'mutation ($id: ID!) { deleteBackup(input: { backupId: $id }) { __typename ... on Error { code message } ... on DeleteBackupSuccess { deletedId } } }',
        { id },
      );
    expect((await pin(first.id, true)).data.pinBackup.backup.pinned).toBe(true);
    expect((await remove(first.id)).data.deleteBackup).toEqual({
      __typename: 'InvalidStateError',
      code: 'INVALID_STATE',
      message: 'The backup is pinned; unpin it first (pinBackup with pinned: false)',
    });
    await pin(first.id, false);
    expect((await remove(first.id)).data.deleteBackup).toEqual({
      __typename: 'DeleteBackupSuccess',
      deletedId: first.id,
    });
    expect(await backup(first.id)).toBeNull();
    expect(await stored.store.list(`${stored.row.backupName}/`)).toEqual([]);

    await gql(lifecycle('deleteService'), { id: serviceId });
    const listed = await gql(
      '{ backups(serviceName: "pinned-backup") { totalCount edges { node { id status service { state } } } } }',
    );
    expect(listed.data.backups).toEqual({
      totalCount: 1,
      edges: [{ node: { id: second.id, status: 'SUCCEEDED', service: { state: 'DELETED' } } }],
    });
    const last = await gql('{ service(name: "pinned-backup") { lastBackup { id } backups { totalCount } } }');
    expect(last.data.service).toEqual({ lastBackup: { id: second.id }, backups: { totalCount: 1 } });
  });
});

describe('backup schedules', () => {
  const SET = `mutation ($input: SetBackupScheduleInput!) { setBackupSchedule(input: $input) {
    __typename ... on SetBackupScheduleSuccess { schedule { cron keepLast keepDays enabled onActiveBatchMessages nextRunAt lastOutcome } } ... on Error { code message }
  } }`;

  it('refuses a bad cron expression with a clear message', async () => {
    const serviceId = await createService(gql, 'bad-cron');
    const result = await gql(SET, { input: { serviceId, cron: '61 * * * *' } });
    expect(result.data.setBackupSchedule).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(result.data.setBackupSchedule.message).toMatch(/^input\.cron: is not a valid cron expression: /);
    expect((await gql(SET, { input: { serviceId, cron: '* * *' } })).data.setBackupSchedule.message).toBe(
      'input.cron: must have 5 fields (minute hour day month weekday) or 6 (with seconds first), got 3',
    );
  });

  it('fires on schedule and prunes unpinned scheduled backups beyond keepLast', async () => {
    const serviceId = await createService(gql, 'scheduled-svc');
    const manual = await finishedBackup({ serviceId });
    const set = await gql(SET, { input: { serviceId, cron: '* * * * * *', keepLast: 2 } });
    expect(set.data.setBackupSchedule.schedule).toMatchObject({
      cron: '* * * * * *',
      keepLast: 2,
      keepDays: null,
      enabled: true,
      onActiveBatchMessages: 'SKIP',
      nextRunAt: expect.any(String),
    });
    const list = () =>
      gql(
        '{ service(name: "scheduled-svc") { backupSchedule { lastOutcome lastRunAt } backups(first: 50) { edges { node { id kind status } } } } }',
      );
    const after = await until(
      list,
      (r) =>
        r.data.service.backups.edges.filter((e: any) => e.node.kind === 'SCHEDULED').length >= 2 &&
        /retention removed/.test(r.data.service.backupSchedule.lastOutcome ?? ''),
      30_000,
    );
    await gql(SET, { input: { serviceId, cron: '0 0 1 1 *', enabled: false } });
    const kinds = after.data.service.backups.edges.map((e: any) => e.node.kind);
    expect(kinds.filter((k: string) => k === 'SCHEDULED').length).toBe(2);
    expect(after.data.service.backups.edges.map((e: any) => e.node.id)).toContain(manual.id); // on-demand backups are never pruned
    expect(after.data.service.backupSchedule.lastOutcome).toMatch(
      /^SUCCEEDED; retention removed \d+ older backup\(s\)$/,
    );
  });

  it('skips a run while batches hold messages under the SKIP policy, and says why', async () => {
    const built = await buildService(gql, 'skip-svc');
    await gql(PROCESS, { id: built.agreements.x12 });
    await gql(SET, { input: { serviceId: built.serviceId, cron: '* * * * * *' } });
    const schedule = await until(
      () => gql('{ service(name: "skip-svc") { backupSchedule { lastOutcome } backups { totalCount } } }'),
      (r) => r.data.service.backupSchedule.lastOutcome !== null,
    );
    await gql(SET, { input: { serviceId: built.serviceId, cron: '* * * * * *', enabled: false } });
    expect(schedule.data.service).toEqual({
      backupSchedule: { lastOutcome: 'SKIPPED: 1 message(s) wait in batches (policy SKIP)' },
      backups: { totalCount: 0 },
    });
  });

  it('releases batches before a scheduled backup under RELEASE_BATCHES_FIRST, and skips, saying why, while the service cannot send them', async () => {
    const outcome = async (name: string) => {
      const r = await until(
        () =>
          gql(
            `{ service(name: "${name}") { backupSchedule { lastOutcome } backups { totalCount } agreements { edges { node { batch { messageCount } } } } } }`,
          ),
        (r) => r.data.service.backupSchedule.lastOutcome !== null,
      );
      return {
        outcome: r.data.service.backupSchedule.lastOutcome,
        backups: r.data.service.backups.totalCount,
        batched: r.data.service.agreements.edges.reduce(
          (n: number, e: any) => n + (e.node.batch?.messageCount ?? 0),
          0,
        ),
      };
    };
    const active = await buildService(gql, 'release-svc');
    await gql(PROCESS, { id: active.agreements.x12 });
    await gql(SET, {
      input: { serviceId: active.serviceId, cron: '* * * * * *', onActiveBatchMessages: 'RELEASE_BATCHES_FIRST' },
    });
    const released = await outcome('release-svc');
    await gql(SET, { input: { serviceId: active.serviceId, cron: '* * * * * *', enabled: false } });
    expect(released).toEqual({ outcome: 'SUCCEEDED', backups: 1, batched: 0 });

    const stopped = await buildService(gql, 'release-stopped-svc');
    await gql(PROCESS, { id: stopped.agreements.x12 });
    await gql('mutation ($id: ID!) { stopService(input: { serviceId: $id }) { __typename } }', {
      id: stopped.serviceId,
    });
    await gql(SET, {
      input: { serviceId: stopped.serviceId, cron: '* * * * * *', onActiveBatchMessages: 'RELEASE_BATCHES_FIRST' },
    });
    const skipped = await outcome('release-stopped-svc');
    await gql(SET, { input: { serviceId: stopped.serviceId, cron: '* * * * * *', enabled: false } });
    expect(skipped).toEqual({
      outcome:
        'SKIPPED: 1 message(s) wait in batches and cannot be released while the service is STOPPED (policy RELEASE_BATCHES_FIRST)',
      backups: 0,
      batched: 1,
    });
  });

  it('runs a due slot once when two schedulers look at the same time', async () => {
    const serviceId = await createService(gql, 'contended-svc');
    await gql(SET, { input: { serviceId, cron: '0 0 1 1 *' } });
    const id = rawId(serviceId);
    const db = file.server.app.runtime.database.db;
    await db
      .update(backupSchedules)
      .set({ nextRunAt: new Date(Date.now() - 3 * 86_400_000) })
      .where(eq(backupSchedules.serviceId, id));
    const ran = await Promise.all([runDueSchedules(file.server.app.runtime), runDueSchedules(file.server.app.runtime)]);
    expect(ran.sort()).toEqual([0, 1]);
    const read = () =>
      gql('{ service(name: "contended-svc") { backups { totalCount } backupSchedule { nextRunAt lastOutcome } } }');
    await until(read, (r) => r.data.service.backupSchedule.lastOutcome !== null);
    const result = await read();
    expect(result.data.service.backups.totalCount).toBe(1); // a missed slot runs once, not once per missed slot
    expect(new Date(result.data.service.backupSchedule.nextRunAt).getTime()).toBeGreaterThan(Date.now());
  });
});
