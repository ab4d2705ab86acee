import { and, eq, inArray, ne } from 'drizzle-orm';
import { agreements } from '../artifact/tables.js';
import { isContentDamage } from '../backup/content.js';
import { readBackup } from '../backup/objects.js';
import { itemData, parseLine } from '../backup/format.js';
import { markCorrupt } from '../backup/service.js';
import { backupManifests, type backups } from '../backup/tables.js';
import { controlNumberHighWater } from '../edi/tables.js';
import type { Runtime } from '../runtime.js';
import type { Edition } from '../service/rules.js';
import { nameAvailability } from '../service/service.js';
import { services } from '../service/tables.js';
import { planChecks, type CollisionPolicy, type ControlNumberPolicy } from './rules.js';
import type { SelectionInput } from './selection.js';

/** What a backup holds that the checks need. */
export type BackupInspection = { intact: boolean } & Pick<
  typeof backupManifests.$inferSelect,
  'agreements' | 'hasArchiving'
>;

/**
 * What the checks need from a backup's content. `verify`: read (and checksum) the whole content, as
 * planning does, and keep what it found as the backup's manifest. Otherwise the manifest of an
 * earlier read is used when there is one: re-validating a plan at execution does not read a large
 * backup again (the restore checksums the content as it reads it, and rolls back on a mismatch).
 */
export async function inspectBackup(
  rt: Runtime,
  backup: typeof backups.$inferSelect,
  verify: boolean,
): Promise<BackupInspection> {
  const found: BackupInspection = { intact: false, agreements: [], hasArchiving: false };
  if (backup.status !== 'SUCCEEDED') return found;
  const { db } = rt.database;
  if (!verify) {
    const [manifest] = await db.select().from(backupManifests).where(eq(backupManifests.backupId, backup.id));
    if (manifest) return { intact: true, agreements: manifest.agreements, hasArchiving: manifest.hasArchiving };
  }
  const interchange = new Map<string, number>();
  try {
    const lines = readBackup(rt, backup);
    for await (const text of lines) {
      const line = parseLine(text);
      if (line.type !== 'item') continue;
      if (line.category === 'AGREEMENTS') {
        const { id, name, lineageId, sourceFtpFolder } = itemData('AGREEMENTS', line.data);
        found.agreements.push({ id, name, lineageId, sourceFtpFolder, interchange: 0 });
      } else if (line.category === 'CONTROL_NUMBERS') {
        const { agreementId, interchange: position } = itemData('CONTROL_NUMBERS', line.data);
        interchange.set(agreementId, position);
      } else if (line.category === 'SERVICE_SETTINGS') {
        found.hasArchiving = itemData('SERVICE_SETTINGS', line.data).secrets.some(
          (s) => s.kind === 'ARCHIVING_STORAGE_CONNECTION_STRING',
        );
      }
    }
    found.intact = lines.checksum() === backup.checksum && lines.size() === backup.sizeBytes;
  } catch (error) {
    if (!isContentDamage(error)) throw error; // a database error says nothing about the backup
    found.intact = false;
  }
  if (!found.intact) {
    await markCorrupt(rt, backup.id);
    return found;
  }
  for (const a of found.agreements) a.interchange = interchange.get(a.id) ?? 0;
  await db
    .insert(backupManifests)
    .values({ backupId: backup.id, agreements: found.agreements, hasArchiving: found.hasArchiving })
    .onConflictDoNothing();
  return found;
}

export interface PlanInput {
  backupId: string;
  /** A new service's name; left out when merging into `targetServiceId`. */
  targetName?: string | null;
  /** Merge the selection into this existing service (SUSPENDED or STOPPED) instead of a new one. */
  targetServiceId?: string | null;
  /** For a merge: what happens to an item whose name the target already has (default SKIP). */
  onCollision?: CollisionPolicy | null;
  targetEdition?: Edition | null;
  targetRegion?: string | null;
  controlNumberPolicy?: ControlNumberPolicy | null;
  /** Restore only these categories and named items (and what they need). */
  selection?: SelectionInput[] | null;
}

/** Gathers the facts and computes every check of a plan (`restored`: the backup's agreements it restores). */
export async function checkPlan(
  rt: Runtime,
  backup: typeof backups.$inferSelect,
  target: { name: string; edition: Edition; policy: ControlNumberPolicy; existing?: boolean },
  verify: boolean,
  restored: (agreementId: string) => boolean = () => true,
) {
  const { db } = rt.database;
  const inspected = await inspectBackup(rt, backup, verify);
  // A partial restore is checked for the agreements it restores only.
  const inspection = { ...inspected, agreements: inspected.agreements.filter((a) => restored(a.id)) };
  // A merge goes into the service that has the name: only a new service needs it free.
  const availability = target.existing
    ? { holderState: null, available: true, availableAt: null }
    : await nameAvailability(rt, db, target.name);
  const lineages = inspection.agreements.map((a) => a.lineageId);
  const highWater = lineages.length
    ? await db
        .select({ lineageId: controlNumberHighWater.lineageId, interchange: controlNumberHighWater.interchange })
        .from(controlNumberHighWater)
        .where(inArray(controlNumberHighWater.lineageId, lineages))
    : [];
  const issued = new Map(highWater.map((h) => [h.lineageId, h.interchange]));
  const drift = inspection.agreements
    .map((a) => ({ agreementName: a.name, issuedSince: (issued.get(a.lineageId) ?? 0) - a.interchange }))
    .filter((d) => d.issuedSince > 0);
  const folders = [...new Set(inspection.agreements.map((a) => a.sourceFtpFolder).filter((f): f is string => !!f))];
  const others = folders.length
    ? await db
        .select({ folder: agreements.sourceFtpFolder, otherAgreement: agreements.name, otherService: services.name })
        .from(agreements)
        .innerJoin(services, eq(services.id, agreements.serviceId))
        .where(and(inArray(agreements.sourceFtpFolder, folders), ne(services.state, 'DELETED')))
    : [];
  const byFolder = new Map<string | null, typeof others>();
  for (const o of others) {
    const list = byFolder.get(o.folder);
    if (list) list.push(o);
    else byFolder.set(o.folder, [o]);
  }
  const ftpConflicts = inspection.agreements.flatMap((a) =>
    (byFolder.get(a.sourceFtpFolder) ?? []).map((o) => ({
      agreementName: a.name,
      folder: a.sourceFtpFolder!,
      otherService: o.otherService,
      otherAgreement: o.otherAgreement,
    })),
  );
  const [source] = backup.serviceId
    ? await db.select({ state: services.state }).from(services).where(eq(services.id, backup.serviceId))
    : [];
  const checks = planChecks({
    backup: {
      status: backup.status,
      edition: backup.edition as Edition,
      intact: inspection.intact,
      warnings: backup.warnings,
      hybridConnectionNames: backup.hybridConnectionNames,
      serviceName: backup.serviceName,
      sourceServiceLive: !!source && source.state !== 'DELETED',
    },
    targetName: target.name,
    targetEdition: target.edition,
    policy: target.policy,
    nameHolder: availability.holderState ? { state: availability.holderState } : null,
    nameFreeAt: availability.available ? null : availability.availableAt,
    drift,
    ftpConflicts,
    archivingLost: inspection.hasArchiving && !['DEVELOPER', 'PREMIUM'].includes(target.edition),
  });
  // A merge leaves its target in the state it had: it is not restored SUSPENDED.
  return target.existing ? checks.filter((c) => c.code !== 'RESTORES_SUSPENDED') : checks;
}
