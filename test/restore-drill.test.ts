import { damageChunk } from './helpers/stored-backups.js';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildService, createService, succeededBackup } from './helpers/artifacts.js';
import { rawId } from './helpers/operations.js';
import { collect, useTestServer } from './helpers/server.js';
import { until } from './helpers/wait.js';

// Drills here fire every second: the editions' minimum interval is lowered for them.
const file = useTestServer({ SCHEDULER_INTERVAL_MS: '200', SCHEDULE_MIN_INTERVAL_SECONDS: '1' });
const gql = (q: string, v?: Record<string, unknown>) => file.server.gql(q, v);

const SET = `mutation ($input: SetRestoreDrillInput!) { setRestoreDrill(input: $input) {
  __typename ... on SetRestoreDrillSuccess { schedule { cron enabled nextRunAt } } ... on Error { code message }
} }`;
const DRILLS = `query ($n: String!) { service(name: $n) { restoreDrills(first: 10) { totalCount edges { node {
  status failureReason durationMs backup { id } differences { category added removed changed { name fields } }
} } } } }`;

/** Lets the schedule run until `finished` drills ended, then pauses it; the drills, oldest first, once none runs. */
async function drilled(serviceId: string, name: string, finished = 1) {
  await gql(SET, { input: { serviceId, cron: '* * * * * *' } });
  await until(
    () => gql(DRILLS, { n: name }),
    (r) => r.data.service.restoreDrills.edges.filter((e: any) => e.node.status !== 'RUNNING').length >= finished,
    30_000,
  );
  await gql(SET, { input: { serviceId, cron: '* * * * * *', enabled: false } });
  const settled = await until(
    () => gql(DRILLS, { n: name }),
    (r) => r.data.service.restoreDrills.edges.every((e: any) => e.node.status !== 'RUNNING'),
    30_000,
  );
  return settled.data.service.restoreDrills.edges.map((e: any) => e.node).reverse();
}

/** Services whose name starts with drill-: the scratch services drills make. */
async function scratchServices() {
  const result = await file.server.app.runtime.database.db.execute(
    sql`select name, state from services where name like 'drill-%'`,
  );
  return (result as { rows?: unknown[] }).rows ?? result;
}

describe('restore drills', () => {
  it('restores the latest backup into a scratch service, finds it matches, removes it, and keeps the result', async () => {
    const built = await buildService(file.server.gql, 'drills-ok');
    const backupId = await succeededBackup(file.server.gql, built.serviceId);
    const [drill] = await drilled(built.serviceId, 'drills-ok');
    expect(drill).toMatchObject({ status: 'PASSED', failureReason: null, backup: { id: backupId }, differences: [] });
    expect(drill.durationMs).toBeGreaterThan(0);
    expect(await scratchServices()).toEqual([]);
    const plans = await gql('{ restorePlans(first: 5) { edges { node { state targetName history { message } } } } }');
    const scratch = plans.data.restorePlans.edges
      .map((e: any) => e.node)
      .find((p: any) => p.targetName.startsWith('drill-'));
    expect(scratch.state).toBe('CANCELLED');
    expect(scratch.history.at(-1).message).toBe('Restore drill: compared with its backup, then removed');
  });

  it('fails a drill whose backup does not restore, and publishes the failure', async () => {
    const serviceId = await createService(file.server.gql, 'drills-damaged');
    const backupId = await succeededBackup(file.server.gql, serviceId);
    await damageChunk(file.server.app.runtime, backupId);
    const failed = collect(
      file.server.ws(),
      'subscription ($s: ID) { restoreDrillFailed(serviceId: $s) { serviceId drill { status failureReason } } }',
      { s: serviceId },
      1,
    );
    await failed.ready;
    const [drill] = await drilled(serviceId, 'drills-damaged');
    expect(drill.status).toBe('FAILED');
    expect(drill.failureReason).toMatch(/^The backup cannot be restored: BACKUP_NOT_RESTORABLE: /);
    expect(await failed.done).toEqual([
      { restoreDrillFailed: { serviceId, drill: { status: 'FAILED', failureReason: drill.failureReason } } },
    ]);
    expect(await scratchServices()).toEqual([]);
  });

  it('fails a drill of a service without a backup, saying so', async () => {
    const serviceId = await createService(file.server.gql, 'drills-empty');
    const [drill] = await drilled(serviceId, 'drills-empty');
    expect(drill).toMatchObject({ status: 'FAILED', failureReason: 'The service has no SUCCEEDED backup to restore' });
  });

  it('ends a drill left RUNNING by a stopped server, so that the next one runs', async () => {
    const serviceId = await createService(file.server.gql, 'drills-interrupted');
    await succeededBackup(file.server.gql, serviceId);
    await file.server.app.runtime.database.db.execute(
      sql`insert into restore_drills (service_id, status, started_at) values (${rawId(serviceId)}, 'RUNNING', now() - interval '40 minutes')`,
    );
    const drills = await drilled(serviceId, 'drills-interrupted', 2);
    expect(drills[0]).toMatchObject({ status: 'FAILED', failureReason: 'Interrupted: the server running it stopped' });
    expect(drills[1]).toMatchObject({ status: 'PASSED' });
  });

  it('refuses a bad cron and a drill of a FREE service', async () => {
    const serviceId = await createService(file.server.gql, 'drills-refused');
    expect((await gql(SET, { input: { serviceId, cron: '* *' } })).data.setRestoreDrill).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      message: 'input.cron: must have 5 fields (minute hour day month weekday) or 6 (with seconds first), got 2',
    });
    const free = await createService(file.server.gql, 'drills-free', 'FREE');
    expect((await gql(SET, { input: { serviceId: free, cron: '0 3 * * 0' } })).data.setRestoreDrill).toEqual({
      __typename: 'EditionWithoutBackupRestoreError',
      code: 'EDITION_WITHOUT_BACKUP_RESTORE',
      message: 'The FREE edition does not support backup and restore; scale up to DEVELOPER or higher',
    });
  });
});
