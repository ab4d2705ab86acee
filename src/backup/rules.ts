import { Cron } from 'croner';
import { DomainError, ValidationError } from '../errors.js';
import type { Edition } from '../service/rules.js';

export const backupKinds = ['ON_DEMAND', 'SCHEDULED'] as const;
export const backupStatuses = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CORRUPT', 'UNREADABLE'] as const;
export const backupStoreKinds = ['DIRECTORY', 'AZURE_BLOB'] as const;
export type BackupStoreKind = (typeof backupStoreKinds)[number];
export type BackupStatus = (typeof backupStatuses)[number];
export const onActiveBatchMessagesChoices = ['SKIP', 'BACKUP_ANYWAY', 'RELEASE_BATCHES_FIRST'] as const;

export interface ItemCount {
  category: string;
  count: number;
}

/** What a backup deliberately leaves out, said in every backup. */
export function exclusions(hybridConnectionNames: string[]): string[] {
  return [
    hybridConnectionNames.length
      ? `Hybrid connections (never backed up; recreate them): ${hybridConnectionNames.join(', ')}`
      : 'Hybrid connections (never backed up; the service had none)',
    'Tracking data (the tracking database is not backed up; only its connection string is)',
    'Batch messages (messages waiting in batches are never backed up)',
  ];
}

export class ActiveBatchMessagesError extends DomainError {
  readonly code = 'ACTIVE_BATCH_MESSAGES';
  constructor(readonly batches: { agreementId: string; agreementName: string; messageCount: number }[]) {
    const total = batches.reduce((n, b) => n + b.messageCount, 0);
    super(
      `${total} message(s) wait in batches (${batches.map((b) => `${b.agreementName}: ${b.messageCount}`).join(', ')}); ` +
        'release the batches first, or pass allowBatchMessageLoss: true to back up without them (they would be lost on restore)',
    );
  }
}

export class EditionWithoutBackupError extends DomainError {
  readonly code = 'EDITION_WITHOUT_BACKUP_RESTORE';
  constructor(edition: string) {
    super(`The ${edition} edition does not support backup and restore; scale up to DEVELOPER or higher`);
  }
}

/** A backup's label: at most 200 characters, no control characters. */
export function validateBackupLabel(label: string, path: string[]): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (label.length > 200 || /[\u0000-\u001f]/.test(label))
    throw ValidationError.field(path, 'must be at most 200 characters without control characters');
}

/**
 * A backup's name in its store, by the rules for Azure container names: 3 to 63 characters,
 * lowercase letters, digits and single hyphens, starting and ending with a letter or digit.
 */
export function validateBackupName(name: string, path: string[]): void {
  if (name.length < 3 || name.length > 63 || !/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/.test(name))
    throw ValidationError.field(
      path,
      'must be 3 to 63 characters: lowercase letters, digits and single hyphens, starting and ending with a letter or digit',
    );
}

/**
 * The name a backup gets when none is given: `<service>-<yyyyMMdd>-<HHmmss>` (UTC), as the seed's
 * schedules name theirs; `suffix` tells apart two backups of one service in the same second.
 */
export function defaultBackupName(serviceName: string, at: Date, suffix = ''): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15) + (suffix ? `-${suffix}` : '');
  const service = serviceName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 63 - stamp.length - 1)
    .replace(/-$/, '');
  return `${service || 'service'}-${stamp}`;
}

/** A backup's store cannot be read with this deployment's key, or at all (code BACKUP_UNREADABLE). */
export class BackupUnreadableError extends DomainError {
  readonly code = 'BACKUP_UNREADABLE';
}

export function batchLossWarning(count: number): string {
  return `${count} batch message(s) were not kept: they are lost if this backup is restored`;
}

/** Parses a 5- or 6-field UTC cron expression; the next run after `from`. */
export function nextRun(cron: string, from = new Date()): Date {
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw ValidationError.field(
      ['input', 'cron'],
      `must have 5 fields (minute hour day month weekday) or 6 (with seconds first), got ${fields}`,
    );
  }
  let job: Cron;
  try {
    job = new Cron(cron, { timezone: 'UTC', paused: true });
  } catch (error) {
    throw ValidationError.field(['input', 'cron'], `is not a valid cron expression: ${(error as Error).message}`);
  }
  const next = job.nextRun(from);
  if (!next) throw ValidationError.field(['input', 'cron'], 'never fires');
  return next;
}

/** The shortest time between two scheduled backups, by edition: a backup copies the whole service. */
export const minimumScheduleIntervalSeconds: Record<Edition, number> = {
  FREE: 86_400,
  DEVELOPER: 3600,
  BASIC: 3600,
  STANDARD: 900,
  PREMIUM: 300,
};

/**
 * Refuses a schedule whose runs come closer together than `minimumSeconds` (the edition's own, unless
 * SCHEDULE_MIN_INTERVAL_SECONDS sets one for all): the first 100 runs from `from` are looked at.
 */
export function checkScheduleInterval(
  cron: string,
  edition: Edition,
  minimumSeconds = minimumScheduleIntervalSeconds[edition],
  from = new Date(),
): void {
  let previous = nextRun(cron, from);
  for (let i = 0; i < 100; i++) {
    const next = nextRun(cron, previous);
    if (next.getTime() - previous.getTime() < minimumSeconds * 1000) {
      throw ValidationError.field(
        ['input', 'cron'],
        `runs more often than the ${edition} edition allows: at least ${minimumSeconds} seconds between backups`,
      );
    }
    previous = next;
  }
}

/** The scheduled backups retention removes: beyond the newest keepLast, or older than keepDays. */
export function prunable<T extends { createdAt: Date }>(
  newestFirst: T[],
  keepLast: number | null,
  keepDays: number | null,
  now = new Date(),
): T[] {
  return newestFirst.filter((backup, index) => {
    const beyondCount = keepLast !== null && index >= keepLast;
    const tooOld = keepDays !== null && now.getTime() - backup.createdAt.getTime() > keepDays * 86_400_000;
    return beyondCount || tooOld;
  });
}

/** The longest lock a backup can get: a lock cannot be lifted, so a mistake lasts until it ends. */
export const MAX_LOCK_DAYS = 3650;

export class BackupLockedError extends DomainError {
  readonly code = 'BACKUP_LOCKED';
  constructor(
    message: string,
    readonly lockedUntil: Date,
  ) {
    super(message);
  }
}

/** A new lock's end: in the future, at most MAX_LOCK_DAYS away. */
export function validateLockUntil(until: Date, path: string[], now = new Date()): void {
  if (until.getTime() <= now.getTime()) throw ValidationError.field(path, 'must be in the future');
  if (until.getTime() - now.getTime() > MAX_LOCK_DAYS * 86_400_000)
    throw ValidationError.field(path, `must be at most ${MAX_LOCK_DAYS} days from now`);
}

/** Why a lock is set: 1–500 characters without control characters. */
export function validateLockReason(reason: string, path: string[]): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (reason.trim().length === 0 || reason.length > 500 || /[\u0000-\u001f]/.test(reason))
    throw ValidationError.field(path, 'must be 1–500 characters without control characters');
}

/** Whether a lock holds at `now`. */
export const isLocked = (lockedUntil: Date | null, now = new Date()): lockedUntil is Date =>
  lockedUntil !== null && lockedUntil.getTime() > now.getTime();
