import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { and, eq, inArray, isNull, lt, or } from 'drizzle-orm';
import * as artifact from '../artifact/tables.js';
import { isContentDamage, readLines } from '../backup/content.js';
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
import { restoredPosition, type RestoreProgress } from './rules.js';
import { restorePlans } from './tables.js';
import { insertRows } from '../db/bulk.js';
import { describeError } from '../log.js';

/** Rows per insert (and per progress event); binary rows are flushed by size instead. */
const PAGE_ROWS = 2000;
const PAGE_BYTES = 4 * 1024 * 1024;
const MAX_ATTEMPTS = 3;
const YIELD_BYTES = 64 * 1024;
/** Pages sent to the database and not yet inserted, within one transaction. */
const IN_FLIGHT = 2;
/** Pages prepared ahead of the transactions that take them. */
const READ_AHEAD = 2;
/** A transaction takes the pages of one category that come within this time (and records one progress event). */
const COMMIT_MS = 250;

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

/** A page of rows to insert (or a small piece of work), with the progress it brings the restore to. */
interface Page {
  category: string;
  progress: RestoreProgress;
  message: string;
  run(tx: Tx): Promise<unknown>;
}

/**
 * One transaction of restore work: the pages of one category that come within COMMIT_MS, sent
 * without waiting for each other (up to IN_FLIGHT at a time, pipelined on the transaction's
 * connection: the database inserts one page while the next is prepared here), then the progress
 * event of the last one. Only while the plan is still RESTORING and ours: the lease is extended
 * first and checked before the commit; everything is undone with the transaction otherwise.
 * Returns what follows the pages it took, or null when it took one page without reading further:
 * PGlite's one connection, held by the transaction, is needed to read the next page.
 */
async function transaction(rt: Runtime, planId: string, first: Page, pages: AsyncIterator<Page>): Promise<IteratorResult<Page> | null> {
  return rt.database.db.transaction(async (tx) => {
    const started = performance.now();
    const issued: Promise<unknown>[] = [];
    const issue = (statement: Promise<unknown>) => {
      statement.catch(() => {}); // each is looked at below, after the lease
      issued.push(statement);
    };
    // Locks the plan and extends the lease in one statement; only the two columns needed.
    const lease = tx
      .update(restorePlans)
      .set({ leaseExpiresAt: new Date(Date.now() + LEASE_MS) })
      .where(eq(restorePlans.id, planId))
      .returning({ state: restorePlans.state, leaseOwner: restorePlans.leaseOwner })
      .execute();
    issue(lease);
    let page = first;
    let next: IteratorResult<Page> | null = null;
    try {
      for (;;) {
        issue(page.run(tx));
        if (issued.length > IN_FLIGHT) await issued[issued.length - 1 - IN_FLIGHT];
        if (rt.database.kind === 'pglite') break;
        next = await pages.next();
        if (next.done || next.value.category !== page.category || performance.now() - started >= COMMIT_MS) break;
        page = next.value;
      }
      issue(appendEvent(tx, planId, 'RESTORING', 'RESTORING', page.message, page.progress));
    } finally {
      const [leased, ...rest] = await Promise.allSettled(issued);
      if (leased!.status === 'rejected') throw leased!.reason;
      const [plan] = (leased as PromiseFulfilledResult<Awaited<typeof lease>>).value;
      if (!plan || plan.state !== 'RESTORING' || plan.leaseOwner !== rt.instanceId || rt.background.stopping) throw new NotOurs();
      for (const result of rest) if (result.status === 'rejected') throw result.reason;
    }
    return next;
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
  // Pages are prepared READ_AHEAD ahead of the transactions taking them: while the database inserts,
  // the next pages are read, decrypted and parsed here.
  const pages = Readable.from(pagesOf(rt, plan), { objectMode: true, highWaterMark: READ_AHEAD })[Symbol.asyncIterator]() as AsyncIterator<Page, void>;
  try {
    for (let next = await pages.next(); !next.done; ) next = (await transaction(rt, plan.id, next.value, pages)) ?? (await pages.next());
  } finally {
    await pages.return?.(); // a failure stops the reading of the backup
  }
  await finish(rt, plan.id);
}

/** The backup's content as pages to restore, in order; throws at the end if it does not match its checksum. */
async function* pagesOf(rt: Runtime, plan: PlanRow): AsyncGenerator<Page, void, undefined> {
  const { db } = rt.database;
  const [backup] = await db.select().from(backups).where(eq(backups.id, plan.backupId!));
  const totals = new Map(backup!.itemCounts.map((c) => [c.category, c.count]));
  const mapping: Mapping = { serviceId: plan.serviceId!, plan, ids: new Map(), highWater: new Map() };
  const lineageOf = new Map<string, string>();
  const targetEdition = plan.targetEdition as Edition;

  let category: string | null = null;
  let pending: Record<string, unknown>[] = [];
  let pendingBytes = 0;
  let done = 0;
  const page = async (): Promise<Page> => {
    const rows = pending;
    const current = category as keyof typeof tables;
    done += rows.length;
    const progress = { category: current, done, total: totals.get(current) ?? done };
    pending = [];
    pendingBytes = 0;
    if (current === 'CONTROL_NUMBERS') {
      // Positions continue past the highest number ever issued on each lineage (ADVANCE_PAST_ISSUED).
      const marks = await db.select().from(controlNumberHighWater).where(inArray(controlNumberHighWater.lineageId, rows.map((r) => lineageOf.get(r.agreementId as string)!)));
      const byLineage = new Map(marks.map((h) => [h.lineageId, h]));
      for (const r of rows) {
        const mark = byLineage.get(lineageOf.get(r.agreementId as string)!);
        if (mark) mapping.highWater.set(r.agreementId as string, mark);
      }
    }
    const insert = insertRows(tables[current], rows.map((r) => toRow(current, r, mapping)));
    return { category: current, progress, message: `${current}: ${progress.done} of ${progress.total}`, run: async (tx) => tx.execute(insert) };
  };

  // Damaged content (a chunk that fails authentication or decompression, or a checksum mismatch):
  // the backup is CORRUPT for good, and the restore fails saying so.
  const damaged = async (error: unknown): Promise<never> => {
    await markCorrupt(rt, backup!.id);
    throw Object.assign(new Error('damaged backup content', { cause: error }), { operatorMessage: 'the backup content does not match its checksum; the backup is now CORRUPT' });
  };
  const lines = readLines(rt.database, postgresBackupStore, rt.secrets, backup!.id);
  let unyielded = 0;
  try {
    for await (const line of lines) {
      // Preparing a page is CPU work: let the database's replies in now and then.
      if ((unyielded += line.length) >= YIELD_BYTES) {
        unyielded = 0;
        await setImmediate();
      }
      const record = JSON.parse(line);
      if (record.type !== 'item') continue;
      if (record.category !== category) {
        if (pending.length) yield await page();
        category = record.category;
        done = 0;
      }
      const data = record.data;
      if (category === 'SERVICE_SETTINGS') {
        yield {
          category,
          progress: { category, done: 1, total: 1 },
          message: 'SERVICE_SETTINGS: settings restored (secrets still encrypted)',
          run: async (tx) => {
            await tx.update(services).set({ scaleUnitCount: data.scaleUnitCount, productVersion: data.productVersion, acsNamespace: data.acsNamespace }).where(eq(services.id, mapping.serviceId));
            const kept = data.secrets.filter((s: { kind: string }) => s.kind !== 'ARCHIVING_STORAGE_CONNECTION_STRING' || editionInfo(targetEdition).archiving);
            if (kept.length) await tx.insert(serviceSecrets).values(kept.map((s: any) => ({ serviceId: mapping.serviceId, kind: s.kind, sealed: s.sealed, fingerprint: s.fingerprint, updatedAt: new Date(s.updatedAt) })));
          },
        };
        category = null;
        continue;
      }
      if (category === 'SSL_CERTIFICATE') {
        yield {
          category,
          progress: { category, done: 1, total: 1 },
          message: 'SSL_CERTIFICATE: restored',
          run: async (tx) => tx.insert(serviceSecrets).values({ serviceId: mapping.serviceId, kind: 'SSL_CERTIFICATE', sealed: data.sealed, fingerprint: data.fingerprint, updatedAt: new Date(data.updatedAt) }),
        };
        category = null;
        continue;
      }
      if (category === 'AGREEMENTS') lineageOf.set(data.id, data.lineageId);
      pending.push(data);
      pendingBytes += line.length;
      if (pending.length >= PAGE_ROWS || pendingBytes >= PAGE_BYTES) yield await page();
    }
  } catch (error) {
    if (isContentDamage(error)) await damaged(error);
    throw error;
  }
  if (pending.length) yield await page();
  if (lines.checksum() !== backup!.checksum) await damaged(new Error('checksum mismatch'));
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
