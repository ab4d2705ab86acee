import { eq } from 'drizzle-orm';
import { InvalidStateError, NotFoundError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { BackupLockedError, isLocked, validateLockReason, validateLockUntil } from './rules.js';
import type { BackupRow } from './service.js';
import { backupPrefix } from './manifest.js';
import { storeOf } from './objects.js';
import { backups } from './tables.js';

export interface LockInput {
  backupId: string;
  until: Date;
  reason: string;
  /** Who locks it (a token's name). */
  by: string;
}

/**
 * Locks a backup until `until`: nobody can delete it or shorten the lock before then (there is no
 * unlock); a later lock extends it. A FAILED backup holds nothing worth keeping and is refused.
 */
export async function lockBackup(rt: Runtime, input: LockInput): Promise<BackupRow> {
  validateLockUntil(input.until, ['input', 'until']);
  validateLockReason(input.reason, ['input', 'reason']);
  const locked = await rt.database.db.transaction(async (tx) => {
    const [backup] = await tx.select().from(backups).where(eq(backups.id, input.backupId)).for('update');
    if (!backup) throw new NotFoundError('Backup', input.backupId);
    if (backup.status === 'FAILED')
      throw new InvalidStateError('The backup FAILED and holds nothing to keep; it cannot be locked', backup.status);
    if (isLocked(backup.lockedUntil) && backup.lockedUntil.getTime() > input.until.getTime())
      throw new BackupLockedError(
        `The backup is locked until ${backup.lockedUntil.toISOString()}; a lock can be extended, never shortened`,
        backup.lockedUntil,
      );
    const [row] = await tx
      .update(backups)
      .set({ lockedUntil: input.until, lockReason: input.reason.trim(), lockedBy: input.by })
      .where(eq(backups.id, input.backupId))
      .returning();
    return row!;
  });
  // The store refuses to delete its objects as well (a DIRECTORY store marks them; see object-store.ts).
  const store = locked.status === 'SUCCEEDED' ? await storeOf(rt, locked) : null;
  if (store) await store.lock(backupPrefix(locked.backupName!), input.until);
  return locked;
}

/** Refuses to delete a backup whose lock still holds. */
export function assertUnlocked(backup: BackupRow): void {
  if (isLocked(backup.lockedUntil))
    throw new BackupLockedError(
      `The backup is locked until ${backup.lockedUntil.toISOString()} (${backup.lockReason}); it cannot be deleted before then`,
      backup.lockedUntil,
    );
}

/**
 * Whether the database refused to delete a locked backup's row or chunks (its lock guard trigger).
 * The service checks the lock first, so this only maps what a race or a bypass would bring.
 */
export function isLockGuardRefusal(error: unknown): boolean {
  const cause = ((error as { cause?: unknown })?.cause ?? error) as { code?: string; message?: string };
  return cause?.code === '55000' && /^backup \S+ is locked until /.test(cause.message ?? '');
}
