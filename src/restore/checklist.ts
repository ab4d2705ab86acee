import { and, asc, eq, ne } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { agreements } from '../artifact/tables.js';
import { backupSchedules } from '../backup/tables.js';
import { InvalidStateError, NotFoundError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Queryable, Tx } from '../db/query.js';
import { services } from '../service/tables.js';
import type { ChecklistKind } from './rules.js';
import { checklistItems } from './tables.js';

type Reads = Queryable<'select' | 'selectDistinctOn'>;

export interface ChecklistEntry {
  kind: ChecklistKind;
  status: 'OPEN' | 'DONE';
  message: string;
}

/** Agreements of this service that pull from a folder an agreement of another live service also pulls from (one query). */
async function ftpConflicts(db: Reads, serviceId: string) {
  const other = alias(agreements, 'other');
  const rows = await db
    .selectDistinctOn([agreements.id], {
      agreementId: agreements.id,
      agreementName: agreements.name,
      folder: agreements.sourceFtpFolder,
      otherService: services.name,
      otherAgreement: other.name,
    })
    .from(agreements)
    .innerJoin(other, eq(other.sourceFtpFolder, agreements.sourceFtpFolder))
    .innerJoin(services, eq(services.id, other.serviceId))
    .where(and(eq(agreements.serviceId, serviceId), ne(services.state, 'DELETED'), ne(services.id, serviceId)))
    .orderBy(asc(agreements.id), asc(services.name), asc(other.name));
  return rows.map((r) => ({ ...r, folder: r.folder! }));
}

/** The post-restore checklist of a freshly restored service; returns how many items it has. */
export async function createChecklist(tx: Tx, serviceId: string): Promise<number> {
  const conflicts = await ftpConflicts(tx, serviceId);
  const items = [
    {
      kind: 'REVIEW_ACS_CREDENTIALS' as const,
      message:
        'Review the ACS credentials: applications built with the BizTalk Services SDK may need those of the restored environment',
    },
    ...conflicts.map((c) => ({
      kind: 'RESOLVE_FTP_SOURCE_CONFLICT' as const,
      message: `Agreement "${c.agreementName}" pulls from ${c.folder}, as does "${c.otherAgreement}" of service "${c.otherService}": change its sourceFtpFolder`,
      agreementId: c.agreementId,
      sourceFtpFolder: c.folder,
    })),
    {
      kind: 'CONFIRM_TARGET_ENVIRONMENT' as const,
      message:
        'Make sure Visual Studio applications, PowerShell cmdlets, REST API and TPM OM API clients target the right environment',
    },
    {
      kind: 'CONFIGURE_AUTOMATED_BACKUPS' as const,
      message: 'Configure automated backups of the restored service (setBackupSchedule)',
    },
  ];
  await tx.insert(checklistItems).values(items.map((item, position) => ({ serviceId, position, ...item })));
  return items.length;
}

/**
 * The checklist with each item's status: manual items are DONE once completed; an FTP conflict once
 * the agreement's folder changed (or nobody else pulls from it any more); automated backups once a
 * schedule exists.
 */
export async function checklist(db: Reads, serviceId: string): Promise<ChecklistEntry[]> {
  const items = await db
    .select()
    .from(checklistItems)
    .where(eq(checklistItems.serviceId, serviceId))
    .orderBy(asc(checklistItems.position));
  if (!items.length) return [];
  const conflicts = items.some((i) => i.kind === 'RESOLVE_FTP_SOURCE_CONFLICT')
    ? await ftpConflicts(db, serviceId)
    : [];
  const [schedule] = await db
    .select({ serviceId: backupSchedules.serviceId })
    .from(backupSchedules)
    .where(eq(backupSchedules.serviceId, serviceId));
  return items.map((item) => {
    let done = item.completedAt !== null;
    if (item.kind === 'RESOLVE_FTP_SOURCE_CONFLICT')
      done = !conflicts.some((c) => c.agreementId === item.agreementId && c.folder === item.sourceFtpFolder);
    if (item.kind === 'CONFIGURE_AUTOMATED_BACKUPS') done ||= !!schedule;
    return { kind: item.kind, status: done ? 'DONE' : 'OPEN', message: item.message };
  });
}

const manual: ChecklistKind[] = ['REVIEW_ACS_CREDENTIALS', 'CONFIRM_TARGET_ENVIRONMENT'];

export async function completeChecklistItem(rt: Runtime, serviceId: string, kind: ChecklistKind): Promise<void> {
  if (!manual.includes(kind)) {
    const how =
      kind === 'RESOLVE_FTP_SOURCE_CONFLICT'
        ? "change the agreement's sourceFtpFolder (updateAgreement), or resume with force: true"
        : 'set a backup schedule (setBackupSchedule)';
    throw new InvalidStateError(`${kind} completes by itself: ${how}`, 'AUTOMATIC');
  }
  const rows = await rt.database.db
    .update(checklistItems)
    .set({ completedAt: new Date() })
    .where(and(eq(checklistItems.serviceId, serviceId), eq(checklistItems.kind, kind)))
    .returning();
  if (!rows.length) throw new NotFoundError('ChecklistItem', `${kind} of service ${serviceId}`);
}
