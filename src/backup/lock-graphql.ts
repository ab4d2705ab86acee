import { InvalidStateError, NotFoundError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { ErrorInterface } from '../graphql/errors.js';
import { defineMutation } from '../graphql/mutation.js';
import { Backup, backupResult } from './graphql.js';
import { lockBackup } from './lock.js';
import { BackupLockedError, isLocked, MAX_LOCK_DAYS } from './rules.js';

builder.drizzleObjectFields(Backup, (t) => ({
  locked: t.boolean({
    description: 'Whether a lock holds now: nobody can delete the backup, and retention skips it.',
    select: { columns: { lockedUntil: true } },
    resolve: (b) => isLocked(b.lockedUntil),
  }),
  lockedUntil: t.expose('lockedUntil', {
    type: 'DateTime',
    nullable: true,
    description: 'When its lock ends (it may have ended already); null if it was never locked.',
  }),
  lockReason: t.exposeString('lockReason', { nullable: true, description: 'Why it was locked.' }),
  lockedBy: t.exposeString('lockedBy', {
    nullable: true,
    description: 'Who locked it: the name of the token, or "backup schedule".',
  }),
}));

builder.objectType(BackupLockedError, {
  name: 'BackupLockedError',
  description:
    'The backup is locked (code BACKUP_LOCKED): it cannot be deleted, nor its lock shortened, before lockedUntil.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    lockedUntil: t.field({ type: 'DateTime', description: 'When the lock ends.', resolve: (e) => e.lockedUntil }),
  }),
});

defineMutation('lockBackup', {
  description: `Locks a backup until a time (ADMIN only; at most ${MAX_LOCK_DAYS} days ahead): until then nobody, an admin included, can delete it or shorten the lock, and retention skips it. There is no unlock; locking again with a later time extends it. Every attempt is in the audit log.`,
  scope: 'admin',
  errors: [NotFoundError, InvalidStateError, BackupLockedError],
  input: (t) => ({
    backupId: t.globalID({ for: Backup, required: true, description: 'The backup.' }),
    until: t.field({ type: 'DateTime', required: true, description: 'When the lock ends; in the future.' }),
    reason: t.string({
      required: true,
      description: 'Why it is locked, e.g. "legal hold, case 2026-114" (1–500 characters).',
    }),
  }),
  resolve: async (input, ctx) => ({
    backup: await lockBackup(ctx.runtime, {
      backupId: input.backupId.id,
      until: input.until,
      reason: input.reason,
      by: ctx.viewer?.tokenName ?? 'anonymous',
    }),
  }),
  success: backupResult,
});
