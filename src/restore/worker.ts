import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { and, eq, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import * as artifact from '../artifact/tables.js';
import { isContentDamage, readLines } from '../backup/content.js';
import { categories, isBinary, itemData, parseLine, type RowCategory } from '../backup/format.js';
import { markCorrupt } from '../backup/service.js';
import { postgresBackupStore } from '../backup/store.js';
import { backups } from '../backup/tables.js';
import { as2MicValues, controlNumberHighWater, controlNumbers } from '../edi/tables.js';
import type { Runtime } from '../runtime.js';
import { editionInfo, type Edition } from '../service/rules.js';
import { publishOnCommit } from '../events/bus.js';
import type { Tx } from '../service/service.js';
import { serviceSecrets, services } from '../service/tables.js';
import { createChecklist } from './checklist.js';
import { LEASE_MS, appendEvent, lockPlan, type PlanRow } from './plan.js';
import type { RestoreProgress } from './rules.js';
import { restorePlans } from './tables.js';
import { insertRows } from '../db/bulk.js';
import { describeError } from '../log.js';

/** Rows per insert; binary rows are flushed by size instead. */
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

/**
 * The INSERT of a page of backup records (their `data`: JSON array text, or parsed for binary rows) into the restored
 * service. Rows get new ids, derived from the plan and the old id (an md5 in the database): the
 * references between categories (a profile's partner, an agreement's profiles, the agreement of a
 * control number or MIC value) resolve to the restored rows without any map kept here, and a
 * restore started again after a crash derives the same ones. Agreement lineages are kept; control
 * numbers continue past the highest number ever issued on their lineage (ADVANCE_PAST_ISSUED) or
 * are the backup's (RESTORE_FROM_BACKUP).
 */
function insertOf(category: RowCategory, rows: string | Record<string, unknown>[], fields: string[], plan: PlanRow): SQL {
  const restoredId = (field: string) => sql`md5(${plan.id}::text || r.${sql.identifier(field)})::uuid`;
  const own = { id: restoredId('id'), serviceId: sql`${plan.serviceId}::uuid` };
  switch (category) {
    case 'PROFILES':
      return insertRows(artifact.profiles, rows, fields, { ...own, partnerId: restoredId('partnerId') });
    case 'AGREEMENTS':
      return insertRows(artifact.agreements, rows, fields, { ...own, hostProfileId: restoredId('hostProfileId'), guestProfileId: restoredId('guestProfileId') });
    case 'CONTROL_NUMBERS': {
      const position = (field: 'interchange' | 'group' | 'transactionSet', column: string) =>
        plan.controlNumberPolicy === 'ADVANCE_PAST_ISSUED' ? sql`greatest(r.${sql.identifier(field)}, coalesce(h.${sql.identifier(column)}, 0))` : sql`r.${sql.identifier(field)}`;
      return insertRows(
        controlNumbers,
        rows,
        fields,
        { agreementId: restoredId('agreementId'), interchange: position('interchange', 'interchange'), group: position('group', 'group'), transactionSet: position('transactionSet', 'transaction_set') },
        sql`left join ${artifact.agreements} a on a.id = ${restoredId('agreementId')} left join ${controlNumberHighWater} h on h.lineage_id = a.lineage_id`,
      );
    }
    case 'AS2_MIC_VALUES':
      return insertRows(as2MicValues, rows, fields, { id: sql`gen_random_uuid()`, agreementId: restoredId('agreementId') });
    default:
      return insertRows(categories[category].table, rows, fields, own);
  }
}

/** A page of rows to insert (or a small piece of work), with the progress it brings the restore to. */
interface Page {
  category: string;
  progress: RestoreProgress;
  message: string;
  /** An async function: a drizzle query itself would run again for each `then`. */
  run(tx: Tx): Promise<unknown>;
}

/** The one item of a category that has one (the service settings, the SSL certificate). */
const single = (category: string, message: string, run: (tx: Tx) => Promise<unknown>): Page => ({ category, progress: { category, done: 1, total: 1 }, message, run });

/**
 * One transaction of restore work: the pages of one category that come within COMMIT_MS, sent
 * without waiting for each other (up to IN_FLIGHT at a time, pipelined on the transaction's
 * connection: the database inserts one page while the next is prepared here), then the progress
 * event of the last one. Only while the plan is still RESTORING and ours: the lease is extended
 * and checked first, and the plan row stays locked until the commit.
 * Returns what follows the pages it took, or null when it took one page without reading further:
 * PGlite's one connection, held by the transaction, is needed to read the next page.
 */
async function transaction(rt: Runtime, planId: string, first: Page, pages: AsyncIterator<Page>): Promise<IteratorResult<Page> | null> {
  return rt.database.db.transaction(async (tx) => {
    const started = performance.now();
    // Locks the plan and extends the lease in one statement (only the two columns needed), before
    // anything is written: an instance that lost the lease must not write into its successor's work.
    const [plan] = await tx
      .update(restorePlans)
      .set({ leaseExpiresAt: new Date(Date.now() + LEASE_MS) })
      .where(eq(restorePlans.id, planId))
      .returning({ state: restorePlans.state, leaseOwner: restorePlans.leaseOwner });
    const ours = () => plan?.state === 'RESTORING' && plan.leaseOwner === rt.instanceId && !rt.background.stopping;
    if (!ours()) throw new NotOurs();
    const issued: Promise<unknown>[] = [];
    const issue = (statement: Promise<unknown>) => {
      statement.catch(() => {}); // each is looked at below
      issued.push(statement);
    };
    let page = first;
    let next: IteratorResult<Page> | null = null;
    let sent = false;
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
      sent = true;
    } finally {
      // Every statement sent is settled before the transaction ends. An error thrown above (reading
      // the backup, or a statement awaited there) goes on as it is; otherwise a failed statement's.
      const failed = (await Promise.allSettled(issued)).find((result) => result.status === 'rejected');
      if (failed && sent) throw failed.reason;
    }
    if (!ours()) throw new NotOurs(); // the service is stopping
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
  const targetEdition = plan.targetEdition as Edition;

  let category: RowCategory | null = null;
  let pending: string[] = []; // the records' data, as JSON text
  let pendingBytes = 0;
  let done = 0;
  const page = (): Page => {
    const current = category!; // set whenever rows are pending
    done += pending.length;
    const progress = { category: current, done, total: totals.get(current) ?? done };
    // Binary rows (assemblies, certificates) go as bound values; the others as JSON text, unparsed.
    const rows = isBinary(current) ? pending.map((data) => itemData(current, data)) : `[${pending.join(',')}]`;
    const insert = insertOf(current, rows, Object.keys(typeof rows === 'string' ? itemData(current, pending[0]!) : rows[0]!), plan);
    pending = [];
    pendingBytes = 0;
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
      const item = parseLine(line);
      if (item.type !== 'item') continue;
      const { data } = item;
      if (item.category !== category) {
        if (pending.length) yield page();
        category = null;
        done = 0;
      }
      if (item.category === 'SERVICE_SETTINGS') {
        const settings = itemData('SERVICE_SETTINGS', data);
        yield single(item.category, 'SERVICE_SETTINGS: settings restored (secrets still encrypted)', async (tx) => {
          await tx.update(services).set({ scaleUnitCount: settings.scaleUnitCount, productVersion: settings.productVersion, acsNamespace: settings.acsNamespace }).where(eq(services.id, plan.serviceId!));
          const kept = settings.secrets.filter((s) => s.kind !== 'ARCHIVING_STORAGE_CONNECTION_STRING' || editionInfo(targetEdition).archiving);
          if (kept.length) await tx.insert(serviceSecrets).values(kept.map((s) => ({ serviceId: plan.serviceId!, kind: s.kind, sealed: s.sealed, fingerprint: s.fingerprint, updatedAt: new Date(s.updatedAt) })));
        });
        continue;
      }
      if (item.category === 'SSL_CERTIFICATE') {
        const ssl = itemData('SSL_CERTIFICATE', data);
        yield single(item.category, 'SSL_CERTIFICATE: restored', async (tx) =>
          tx.insert(serviceSecrets).values({ serviceId: plan.serviceId!, kind: 'SSL_CERTIFICATE', sealed: ssl.sealed, fingerprint: ssl.fingerprint, updatedAt: new Date(ssl.updatedAt) }),
        );
        continue;
      }
      category = item.category;
      pending.push(data);
      pendingBytes += data.length;
      if (pending.length >= PAGE_ROWS || pendingBytes >= PAGE_BYTES) yield page();
    }
  } catch (error) {
    if (isContentDamage(error)) await damaged(error);
    throw error;
  }
  if (pending.length) yield page();
  if (lines.checksum() !== backup!.checksum) await damaged(new Error('checksum mismatch'));
}

async function finish(rt: Runtime, planId: string): Promise<void> {
  await rt.database.db.transaction(async (tx) => {
    const plan = await lockPlan(tx, planId);
    if (plan.state !== 'RESTORING' || plan.leaseOwner !== rt.instanceId) throw new NotOurs();
    const [service] = await tx.update(services).set({ state: 'SUSPENDED', updatedAt: new Date() }).where(eq(services.id, plan.serviceId!)).returning();
    const open = await createChecklist(tx, service!.id);
    await tx.update(restorePlans).set({ state: 'SUSPENDED', leaseOwner: null, leaseExpiresAt: null, updatedAt: new Date() }).where(eq(restorePlans.id, planId));
    await appendEvent(tx, planId, 'SUSPENDED', 'RESTORING', `Restored; "${service!.name}" is SUSPENDED with ${open} checklist item(s) to review before resuming it`);
    await publishOnCommit(tx, 'serviceStateChanged', { serviceId: service!.id, previousState: 'RESTORING', state: 'SUSPENDED', at: service!.updatedAt.toISOString() });
  });
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
