import { randomUUID } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import { and, eq, inArray, isNull, lt, or } from 'drizzle-orm';
import * as artifact from '../artifact/tables.js';
import { readLines } from '../backup/content.js';
import { markCorrupt } from '../backup/service.js';
import { postgresBackupStore } from '../backup/store.js';
import { backups } from '../backup/tables.js';
import { as2MicValues, controlNumberHighWater, controlNumbers } from '../edi/tables.js';
import type { Runtime } from '../runtime.js';
import { editionInfo, type Edition } from '../service/rules.js';
import { publishStateChange, type Tx } from '../service/service.js';
import { serviceSecrets, services } from '../service/tables.js';
import { createChecklist } from './checklist.js';
import { LEASE_MS, appendEvent, lockPlan, type PlanRow } from './plan.js';
import { restoredPosition } from './rules.js';
import { restorePlans } from './tables.js';
import { insertRows } from '../db/bulk.js';
import { describeError } from '../log.js';

/** Rows per insert (and per progress event); binary rows are flushed by size instead. */
const PAGE_ROWS = 2000;
const PAGE_BYTES = 4 * 1024 * 1024;
const MAX_ATTEMPTS = 3;
const YIELD_BYTES = 64 * 1024;

/** Thrown when the plan is no longer ours to restore (cancelled, or taken over after our lease expired). */
class NotOurs extends Error {}

interface Mapping {
  serviceId: string;
  plan: PlanRow;
  ids: Map<string, string>;
  highWater: Map<string, { interchange: number; group: number; transactionSet: number }>;
}

const tables = {
  PARTNERS: artifact.partners,
  PROFILES: artifact.profiles,
  AGREEMENTS: artifact.agreements,
  CUSTOM_ASSEMBLIES: artifact.customAssemblies,
  BRIDGES: artifact.bridges,
  CERTIFICATES: artifact.certificates,
  TRANSFORMS: artifact.transforms,
  PIPELINES: artifact.pipelines,
  TEMPLATES: artifact.templates,
  X12_MAPPINGS: artifact.x12Mappings,
  CONTROL_NUMBERS: controlNumbers,
  AS2_MIC_VALUES: as2MicValues,
} as const;

/**
 * A backup record as the row to insert into the restored service, with new ids (agreement lineages are
 * kept). Binary content stays base64, as insertRows takes it.
 */
function toRow(category: keyof typeof tables, data: Record<string, any>, m: Mapping): Record<string, unknown> {
  const own = () => {
    const id = randomUUID();
    m.ids.set(data.id, id);
    return { id, serviceId: m.serviceId };
  };
  switch (category) {
    case 'PROFILES':
      return { ...data, ...own(), partnerId: m.ids.get(data.partnerId) };
    case 'AGREEMENTS':
      return { ...data, ...own(), hostProfileId: m.ids.get(data.hostProfileId), guestProfileId: m.ids.get(data.guestProfileId) };
    case 'CONTROL_NUMBERS': {
      const agreementId = m.ids.get(data.agreementId)!;
      const issued = m.highWater.get(data.agreementId) ?? { interchange: 0, group: 0, transactionSet: 0 };
      const at = (field: 'interchange' | 'group' | 'transactionSet') => restoredPosition(m.plan.controlNumberPolicy, data[field], issued[field]);
      return { agreementId, interchange: at('interchange'), group: at('group'), transactionSet: at('transactionSet') };
    }
    case 'AS2_MIC_VALUES':
      return { ...data, id: randomUUID(), agreementId: m.ids.get(data.agreementId) };
    default:
      return { ...data, ...own() };
  }
}

/** One short transaction of restore work: only while the plan is still RESTORING and ours; extends the lease. */
async function step(rt: Runtime, planId: string, work: (tx: Tx) => Promise<string | null>, progress?: { category: string; done: number; total: number }) {
  await rt.database.db.transaction(async (tx) => {
    // Locks the plan and extends the lease in one statement (undone with the rest if it is not ours);
    // only the two columns needed: the plan row carries all its checks.
    const [plan] = await tx
      .update(restorePlans)
      .set({ leaseExpiresAt: new Date(Date.now() + LEASE_MS) })
      .where(eq(restorePlans.id, planId))
      .returning({ state: restorePlans.state, leaseOwner: restorePlans.leaseOwner });
    if (!plan || plan.state !== 'RESTORING' || plan.leaseOwner !== rt.instanceId || rt.background.stopping) throw new NotOurs();
    const message = await work(tx);
    if (message) await appendEvent(tx, planId, 'RESTORING', 'RESTORING', message, progress ?? null);
  });
}

/**
 * Fills the RESTORING service from the backup, category by category, in short transactions that
 * each record a progress event; then moves it to SUSPENDED with its checklist. Any failure rolls
 * everything back: the service and all its rows are removed and the name is free again.
 */
export async function runRestore(rt: Runtime, plan: PlanRow): Promise<void> {
  try {
    await restore(rt, plan);
  } catch (error) {
    if (error instanceof NotOurs) return;
    rt.log.error({ planId: plan.id, ...describeError(error) }, 'restore failed');
    await rollBack(rt, plan.id, (error as Error & { operatorMessage?: string }).operatorMessage ?? 'the backup could not be applied; see the server log', rt.instanceId);
  }
}

async function restore(rt: Runtime, plan: PlanRow): Promise<void> {
  const { db } = rt.database;
  const [backup] = await db.select().from(backups).where(eq(backups.id, plan.backupId!));
  const totals = new Map(backup!.itemCounts.map((c) => [c.category, c.count]));
  const mapping: Mapping = { serviceId: plan.serviceId!, plan, ids: new Map(), highWater: new Map() };
  const lineageOf = new Map<string, string>();
  const targetEdition = plan.targetEdition as Edition;

  // One step runs in the database while the next page is read, decrypted and parsed here; a failed
  // step surfaces at the next one (or at the end).
  let inFlight: Promise<void> = Promise.resolve();
  const next = async (work: () => Promise<void>) => {
    await inFlight;
    inFlight = work();
    inFlight.catch(() => {});
  };

  let category: string | null = null;
  let pending: Record<string, unknown>[] = [];
  let pendingBytes = 0;
  let done = 0;
  const flush = async () => {
    if (!category || !pending.length) return;
    const rows = pending;
    const current = category as keyof typeof tables;
    done += rows.length;
    const progress = { category: current, done, total: totals.get(current) ?? done };
    pending = [];
    pendingBytes = 0;
    if (current === 'CONTROL_NUMBERS' && rows.length) {
      // Positions continue past the highest number ever issued on each lineage (ADVANCE_PAST_ISSUED).
      const marks = await db.select().from(controlNumberHighWater).where(inArray(controlNumberHighWater.lineageId, rows.map((r) => lineageOf.get(r.agreementId as string)!)));
      const byLineage = new Map(marks.map((h) => [h.lineageId, h]));
      for (const r of rows) {
        const mark = byLineage.get(lineageOf.get(r.agreementId as string)!);
        if (mark) mapping.highWater.set(r.agreementId as string, mark);
      }
    }
    const insert = insertRows(tables[current], rows.map((r) => toRow(current, r, mapping)));
    await next(() =>
      step(rt, plan.id, async (tx) => {
        await tx.execute(insert);
        return `${current}: ${progress.done} of ${progress.total}`;
      }, progress),
    );
  };

  const lines = readLines(rt.database, postgresBackupStore, rt.secrets, backup!.id);
  let unyielded = 0;
  try {
    for await (const line of lines) {
      // Preparing a page is CPU work: let the running step's replies in now and then.
      if ((unyielded += line.length) >= YIELD_BYTES) {
        unyielded = 0;
        await setImmediate();
      }
      const record = JSON.parse(line);
      if (record.type !== 'item') continue;
      if (record.category !== category) {
        if (pending.length) await flush();
        category = record.category;
        done = 0;
      }
      const data = record.data;
      if (category === 'SERVICE_SETTINGS' || category === 'SSL_CERTIFICATE') {
        const kind = category;
        await next(() =>
          step(rt, plan.id, async (tx) => {
            if (kind === 'SERVICE_SETTINGS') {
              await tx.update(services).set({ scaleUnitCount: data.scaleUnitCount, productVersion: data.productVersion, acsNamespace: data.acsNamespace }).where(eq(services.id, mapping.serviceId));
              const kept = data.secrets.filter((s: { kind: string }) => s.kind !== 'ARCHIVING_STORAGE_CONNECTION_STRING' || editionInfo(targetEdition).archiving);
              if (kept.length) await tx.insert(serviceSecrets).values(kept.map((s: any) => ({ serviceId: mapping.serviceId, kind: s.kind, sealed: s.sealed, fingerprint: s.fingerprint, updatedAt: new Date(s.updatedAt) })));
              return 'SERVICE_SETTINGS: settings restored (secrets still encrypted)';
            }
            await tx.insert(serviceSecrets).values({ serviceId: mapping.serviceId, kind: 'SSL_CERTIFICATE', sealed: data.sealed, fingerprint: data.fingerprint, updatedAt: new Date(data.updatedAt) });
            return 'SSL_CERTIFICATE: restored';
          }, { category: kind, done: 1, total: 1 }),
        );
        category = null;
        continue;
      }
      if (category === 'AGREEMENTS') lineageOf.set(data.id, data.lineageId);
      pending.push(data);
      pendingBytes += line.length;
      if (pending.length >= PAGE_ROWS || pendingBytes >= PAGE_BYTES) await flush();
    }
    await flush();
    await inFlight;
  } finally {
    await inFlight.catch(() => {}); // a failure never leaves a step running behind it
  }
  if (lines.checksum() !== backup!.checksum) {
    await markCorrupt(rt, backup!.id);
    throw Object.assign(new Error('checksum mismatch'), { operatorMessage: 'the backup content does not match its checksum; the backup is now CORRUPT' });
  }
  await finish(rt, plan.id);
}

async function finish(rt: Runtime, planId: string): Promise<void> {
  const result = await rt.database.db.transaction(async (tx) => {
    const plan = await lockPlan(tx, planId);
    if (plan.state !== 'RESTORING' || plan.leaseOwner !== rt.instanceId) throw new NotOurs();
    const [service] = await tx.update(services).set({ state: 'SUSPENDED', updatedAt: new Date() }).where(eq(services.id, plan.serviceId!)).returning();
    const open = await createChecklist(tx, service!.id);
    await tx.update(restorePlans).set({ state: 'SUSPENDED', leaseOwner: null, leaseExpiresAt: null, updatedAt: new Date() }).where(eq(restorePlans.id, planId));
    await appendEvent(tx, planId, 'SUSPENDED', 'RESTORING', `Restored; "${service!.name}" is SUSPENDED with ${open} checklist item(s) to review before resuming it`);
    return { service: service! };
  });
  publishStateChange(rt, { serviceId: result.service.id, previousState: 'RESTORING', state: 'SUSPENDED', at: result.service.updatedAt.toISOString() });
}

/**
 * Removes whatever was restored (the service and, by cascade, all its rows) and ends the plan FAILED
 * — only while `owner` still holds the lease: an instance that lost it must not undo its successor's work.
 */
export async function rollBack(rt: Runtime, planId: string, reason: string, owner: string): Promise<void> {
  await rt.database.db.transaction(async (tx) => {
    const plan = await lockPlan(tx, planId);
    if (plan.state !== 'RESTORING' || plan.leaseOwner !== owner) return;
    if (plan.serviceId) await tx.delete(services).where(eq(services.id, plan.serviceId));
    await tx.update(restorePlans).set({ state: 'FAILED', failureReason: reason, serviceId: null, leaseOwner: null, leaseExpiresAt: null, updatedAt: new Date() }).where(eq(restorePlans.id, planId));
    await appendEvent(tx, planId, 'FAILED', 'RESTORING', `Restore failed: ${reason}. Everything restored so far was removed and the name "${plan.targetName}" is free`);
  });
}

/**
 * Restores whose instance died (lease expired; on the embedded database at start, all of them):
 * claims each, removes what was partly restored and starts again from the backup, or after
 * MAX_ATTEMPTS rolls back.
 */
export async function takeOverRestores(rt: Runtime, all: boolean): Promise<number> {
  const { db } = rt.database;
  const now = new Date();
  const orphans = await db
    .select()
    .from(restorePlans)
    .where(and(eq(restorePlans.state, 'RESTORING'), all ? undefined : or(isNull(restorePlans.leaseExpiresAt), lt(restorePlans.leaseExpiresAt, now))));
  let taken = 0;
  for (const orphan of orphans) {
    const claimed = await db.transaction(async (tx) => {
      const plan = await lockPlan(tx, orphan.id);
      const expired = !plan.leaseExpiresAt || plan.leaseExpiresAt < now;
      if (plan.state !== 'RESTORING' || (!all && !expired) || plan.leaseExpiresAt?.getTime() !== orphan.leaseExpiresAt?.getTime()) return null;
      if (plan.attempts >= MAX_ATTEMPTS) return { plan, giveUp: true as const };
      const [old] = await tx.select().from(services).where(eq(services.id, plan.serviceId!));
      await tx.delete(services).where(eq(services.id, plan.serviceId!));
      await tx.insert(services).values({ ...old!, scaleUnitCount: 1, acsNamespace: null, updatedAt: new Date() });
      const [updated] = await tx
        .update(restorePlans)
        .set({ serviceId: old!.id, leaseOwner: rt.instanceId, leaseExpiresAt: new Date(Date.now() + LEASE_MS), attempts: plan.attempts + 1, updatedAt: new Date() })
        .where(eq(restorePlans.id, plan.id))
        .returning();
      await appendEvent(tx, plan.id, 'RESTORING', 'RESTORING', `Taken over after the instance restoring it stopped (attempt ${plan.attempts + 1} of ${MAX_ATTEMPTS}); starting again from the backup`);
      return { plan: updated!, giveUp: false as const };
    });
    if (!claimed) continue;
    taken++;
    if (claimed.giveUp) {
      await rt.database.db.update(restorePlans).set({ leaseOwner: rt.instanceId }).where(eq(restorePlans.id, orphan.id));
      await rollBack(rt, orphan.id, `interrupted ${MAX_ATTEMPTS} times`, rt.instanceId);
      continue;
    }
    rt.background.run(`restore ${orphan.id}`, () => runRestore(rt, claimed.plan));
  }
  return taken;
}

/** At shutdown: restores this instance holds are released, so another instance (or the next start) takes them over at once. */
export async function handBackWork(rt: Runtime): Promise<void> {
  await rt.database.db
    .update(restorePlans)
    .set({ leaseOwner: null, leaseExpiresAt: new Date(0) })
    .where(and(eq(restorePlans.state, 'RESTORING'), eq(restorePlans.leaseOwner, rt.instanceId)));
}
