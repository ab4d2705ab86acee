import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { pruneScheduledBackups } from '../src/backup/schedule.js';
import { backupChunks, backupSchedules } from '../src/backup/tables.js';
import { createService, succeededBackup } from './helpers/artifacts.js';
import { rawId } from './helpers/operations.js';
import { useTestServer } from './helpers/server.js';
import { until } from './helpers/wait.js';
import { endLock, makeLegacy } from './helpers/stored-backups.js';

const file = useTestServer({ SCHEDULER_INTERVAL_MS: '200', SCHEDULE_MIN_INTERVAL_SECONDS: '1' });
const gql = (q: string, v?: Record<string, unknown>, token?: string | null) => file.server.gql(q, v, token);
const db = () => file.server.app.runtime.database.db;

const LOCK_FIELDS = 'locked lockedUntil lockReason lockedBy';
const LOCK = `mutation ($input: LockBackupInput!) { lockBackup(input: $input) {
  __typename
  ... on LockBackupSuccess { backup { ${LOCK_FIELDS} } }
  ... on Error { code message }
  ... on BackupLockedError { lockedUntil }
  ... on ValidationError { fields { path message } }
} }`;
const DELETE = `mutation ($id: ID!) { deleteBackup(input: { backupId: $id }) {
  __typename ... on Error { code message } ... on BackupLockedError { lockedUntil }
} }`;
const SET = `mutation ($input: SetBackupScheduleInput!) { setBackupSchedule(input: $input) {
  __typename ... on SetBackupScheduleSuccess { schedule { lockDays } } ... on Error { code message }
} }`;

const days = (n: number) => new Date(Date.now() + n * 86_400_000);

async function finishedBackup(name: string) {
  const serviceId = await createService(gql, name);
  const id = await succeededBackup(gql, serviceId);
  return { serviceId, backupId: id };
}

const audit = async (operation: string) =>
  (
    await gql('query ($op: String) { auditLog(operation: $op, first: 20) { edges { node { outcome tokenName } } } }', {
      op: operation,
    })
  ).data.auditLog.edges.map((e: { node: unknown }) => e.node);

describe('locked backups', () => {
  it('refuses to delete a locked backup, even for an admin, and audits both attempts', async () => {
    const { backupId } = await finishedBackup('lock-delete');
    const until = days(30).toISOString();
    const locked = await gql(LOCK, { input: { backupId, until, reason: 'legal hold, case 114' } });
    expect(locked.data.lockBackup).toEqual({
      __typename: 'LockBackupSuccess',
      backup: { locked: true, lockedUntil: until, lockReason: 'legal hold, case 114', lockedBy: 'ADMIN_TOKEN' },
    });
    const deleted = await gql(DELETE, { id: backupId });
    expect(deleted.data.deleteBackup).toEqual({
      __typename: 'BackupLockedError',
      code: 'BACKUP_LOCKED',
      message: `The backup is locked until ${until} (legal hold, case 114); it cannot be deleted before then`,
      lockedUntil: until,
    });
    expect(await audit('deleteBackup')).toEqual([{ outcome: 'BACKUP_LOCKED', tokenName: 'ADMIN_TOKEN' }]);
    expect(await audit('lockBackup')).toEqual([{ outcome: 'SUCCEEDED', tokenName: 'ADMIN_TOKEN' }]);
  });

  it('extends a lock but never shortens it', async () => {
    const { backupId } = await finishedBackup('lock-extend');
    const first = days(10).toISOString();
    await gql(LOCK, { input: { backupId, until: first, reason: 'quarter close' } });
    const shorter = await gql(LOCK, { input: { backupId, until: days(5).toISOString(), reason: 'oops' } });
    expect(shorter.data.lockBackup).toEqual({
      __typename: 'BackupLockedError',
      code: 'BACKUP_LOCKED',
      message: `The backup is locked until ${first}; a lock can be extended, never shortened`,
      lockedUntil: first,
    });
    const later = days(20).toISOString();
    const extended = await gql(LOCK, { input: { backupId, until: later, reason: 'audit' } });
    expect(extended.data.lockBackup.backup).toEqual({
      locked: true,
      lockedUntil: later,
      lockReason: 'audit',
      lockedBy: 'ADMIN_TOKEN',
    });
  });

  it('lets only an admin lock, and records the refusal', async () => {
    const { backupId } = await finishedBackup('lock-operator');
    const token = (
      await gql(
        'mutation { createApiToken(input: { name: "lock-operator", role: OPERATOR }) { ... on CreateApiTokenSuccess { secret } } }',
      )
    ).data.createApiToken.secret as string;
    const refused = await gql(LOCK, { input: { backupId, until: days(1).toISOString(), reason: 'mine' } }, token);
    expect(refused.data.lockBackup).toEqual({
      __typename: 'ForbiddenError',
      code: 'FORBIDDEN',
      message: "Your token's role may not use Mutation.lockBackup",
    });
    expect(await audit('lockBackup')).toContainEqual({ outcome: 'FORBIDDEN', tokenName: 'lock-operator' });
    const backup = await gql(`query ($id: ID!) { backup(id: $id) { ${LOCK_FIELDS} } }`, { id: backupId });
    expect(backup.data.backup).toEqual({ locked: false, lockedUntil: null, lockReason: null, lockedBy: null });
  });

  it('refuses a lock that ends in the past or has no reason', async () => {
    const { backupId } = await finishedBackup('lock-invalid');
    const past = await gql(LOCK, { input: { backupId, until: days(-1).toISOString(), reason: 'x' } });
    expect(past.data.lockBackup.fields).toEqual([{ path: ['input', 'until'], message: 'must be in the future' }]);
    const tooFar = await gql(LOCK, { input: { backupId, until: days(3651).toISOString(), reason: 'x' } });
    expect(tooFar.data.lockBackup.fields).toEqual([
      { path: ['input', 'until'], message: 'must be at most 3650 days from now' },
    ]);
    const blank = await gql(LOCK, { input: { backupId, until: days(1).toISOString(), reason: '  ' } });
    expect(blank.data.lockBackup.fields).toEqual([
      { path: ['input', 'reason'], message: 'must be 1–500 characters without control characters' },
    ]);
  });

  it('lets a backup be deleted once its lock has ended', async () => {
    const { backupId } = await finishedBackup('lock-ended');
    await gql(LOCK, { input: { backupId, until: days(1).toISOString(), reason: 'a day' } });
    await endLock(file.server.app.runtime, backupId);
    expect((await gql(DELETE, { id: backupId })).data.deleteBackup.__typename).toBe('DeleteBackupSuccess');
  });

  it('refuses a raw DELETE of a locked backup in the database itself, and allows it once the lock has ended', async () => {
    const { backupId } = await finishedBackup('lock-store');
    const id = rawId(backupId);
    // The guard covers the backup row and the chunks of backups taken before backup stores.
    await makeLegacy(file.server.app.runtime, backupId);
    const lockedUntil = new Date(Date.now() + 1500);
    await gql(LOCK, { input: { backupId, until: lockedUntil.toISOString(), reason: 'store guard' } });
    const chunks = async () =>
      (await db().select({ seq: backupChunks.seq }).from(backupChunks).where(eq(backupChunks.backupId, id))).length;
    const stored = await chunks();
    expect(stored).toBeGreaterThan(0);
    const refusal = async (statement: Promise<unknown>) => {
      const error = await statement.then(
        () => null,
        (e: { cause?: unknown }) => (e.cause ?? e) as { code?: string; message?: string },
      );
      return { code: error?.code, message: error?.message };
    };
    // The time is written in the database session's time zone.
    const refused = {
      code: '55000',
      message: expect.stringMatching(
        new RegExp(`^backup ${id} is locked until \\S+ \\S+; it cannot be deleted or changed before then$`),
      ),
    };
    expect(await refusal(db().execute(sql`delete from backup_chunks where backup_id = ${id}`))).toEqual(refused);
    expect(await refusal(db().execute(sql`delete from backups where id = ${id}`))).toEqual(refused);
    expect(await refusal(db().execute(sql`update backup_chunks set data = '' where backup_id = ${id}`))).toEqual(
      refused,
    );
    // Truncating is refused while any backup is locked (others of this file are, for days).
    expect(await refusal(db().execute(sql`truncate backup_chunks`))).toEqual({
      code: '55000',
      message: expect.stringMatching(/^backup \S+ is locked until /),
    });
    expect(await chunks()).toBe(stored);
    await until(
      async () => Date.now(),
      (now) => now > lockedUntil.getTime() + 50,
    );
    await db().execute(sql`delete from backup_chunks where backup_id = ${id}`);
    await db().execute(sql`delete from backups where id = ${id}`);
    expect(await chunks()).toBe(0);
  });

  it('locks what a schedule makes for lockDays, and retention skips it until the lock ends', async () => {
    const serviceId = await createService(gql, 'lock-schedule');
    const set = await gql(SET, { input: { serviceId, cron: '* * * * * *', keepLast: 1, lockDays: 7 } });
    expect(set.data.setBackupSchedule.schedule).toEqual({ lockDays: 7 });
    const list = () =>
      gql(
        `{ service(name: "lock-schedule") { backups(first: 50) { edges { node { id status createdAt ${LOCK_FIELDS} } } } } }`,
      );
    await until(
      list,
      (r) => r.data.service.backups.edges.filter((e: any) => e.node.status === 'SUCCEEDED').length >= 3,
      30_000,
    );
    await gql(SET, { input: { serviceId, cron: '0 0 1 1 *', enabled: false, keepLast: 1, lockDays: 7 } });
    // Settled: no backup of the schedule still running.
    const made = await until(list, (r) =>
      r.data.service.backups.edges.every((e: any) => !['PENDING', 'RUNNING'].includes(e.node.status)),
    );
    const succeeded = made.data.service.backups.edges
      .map((e: any) => e.node)
      .filter((b: any) => b.status === 'SUCCEEDED');
    for (const b of succeeded) {
      expect(b).toMatchObject({ locked: true, lockReason: 'Locked by its backup schedule for 7 day(s)' });
      expect(b.lockedBy).toBe('backup schedule');
      const lockedFor = new Date(b.lockedUntil).getTime() - new Date(b.createdAt).getTime();
      expect(Math.abs(lockedFor - 7 * 86_400_000)).toBeLessThan(5_000);
    }
    const [schedule] = await db()
      .select()
      .from(backupSchedules)
      .where(eq(backupSchedules.serviceId, rawId(serviceId)));
    expect(await pruneScheduledBackups(file.server.app.runtime, schedule!)).toBe(0);
    for (const b of succeeded) await endLock(file.server.app.runtime, b.id);
    expect(await pruneScheduledBackups(file.server.app.runtime, schedule!)).toBe(succeeded.length - 1);
  });

  it('refuses a schedule lockDays outside 1–3650', async () => {
    const serviceId = await createService(gql, 'lock-days-bad');
    const result = await gql(SET, { input: { serviceId, cron: '0 2 * * *', lockDays: 0 } });
    expect(result.data.setBackupSchedule).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      message: 'input.lockDays: must be a whole number from 1 to 3650, or null',
    });
  });
});
