import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { eq, sql, type SQL } from 'drizzle-orm';
import * as artifact from '../artifact/tables.js';
import { isContentDamage } from '../backup/content.js';
import { readBackup } from '../backup/objects.js';
import { categories, isBinary, itemData, parseLine, type RowCategory } from '../backup/format.js';
import { markCorrupt } from '../backup/service.js';
import { backups } from '../backup/tables.js';
import { as2MicValues, controlNumberHighWater, controlNumbers } from '../edi/tables.js';
import type { Runtime } from '../runtime.js';
import { editionInfo, type Edition } from '../service/rules.js';
import type { Tx } from '../db/query.js';
import { restoreServiceSettings } from '../service/service.js';
import { NotOurs, appendEvent, renewLease, type PlanRow } from './history.js';
import type { RestoreProgress } from './rules.js';
import { insertRows } from '../db/bulk.js';
import { selector } from './selection.js';

/** Rows per insert; binary rows are flushed by size instead. */
const PAGE_ROWS = 2000;
const PAGE_BYTES = 4 * 1024 * 1024;
const YIELD_BYTES = 64 * 1024;
/** Pages sent to the database and not yet inserted, within one transaction. */
const IN_FLIGHT = 2;
/** Pages prepared ahead of the transactions that take them. */
const READ_AHEAD = 2;
/** A transaction takes the pages of one category that come within this time (and records one progress event). */
const COMMIT_MS = 250;

/**
 * The INSERT of a page of backup records (their `data`: JSON array text, or parsed for binary rows) into the restored
 * service. Rows get new ids, derived from the plan and the old id (an md5 in the database): the
 * references between categories (a profile's partner, an agreement's profiles, the agreement of a
 * control number or MIC value) resolve to the restored rows without any map kept here, and a
 * restore started again after a crash derives the same ones. Agreement lineages are kept; control
 * numbers continue past the highest number ever issued on their lineage (ADVANCE_PAST_ISSUED) or
 * are the backup's (RESTORE_FROM_BACKUP).
 */
function insertOf(
  category: RowCategory,
  rows: string | Record<string, unknown>[],
  fields: string[],
  plan: PlanRow,
): SQL {
  const restoredId = (field: string) => sql`md5(${plan.id}::text || r.${sql.identifier(field)})::uuid`;
  const own = { id: restoredId('id'), serviceId: sql`${plan.serviceId}::uuid` };
  switch (category) {
    case 'PROFILES':
      return insertRows(artifact.profiles, rows, fields, { ...own, partnerId: restoredId('partnerId') });
    case 'AGREEMENTS':
      return insertRows(artifact.agreements, rows, fields, {
        ...own,
        hostProfileId: restoredId('hostProfileId'),
        guestProfileId: restoredId('guestProfileId'),
      });
    case 'CONTROL_NUMBERS': {
      const position = (field: 'interchange' | 'group' | 'transactionSet', column: string) =>
        plan.controlNumberPolicy === 'ADVANCE_PAST_ISSUED'
          ? sql`greatest(r.${sql.identifier(field)}, coalesce(h.${sql.identifier(column)}, 0))`
          : sql`r.${sql.identifier(field)}`;
      return insertRows(
        controlNumbers,
        rows,
        fields,
        {
          agreementId: restoredId('agreementId'),
          interchange: position('interchange', 'interchange'),
          group: position('group', 'group'),
          transactionSet: position('transactionSet', 'transaction_set'),
        },
        sql`left join ${artifact.agreements} a on a.id = ${restoredId('agreementId')} left join ${controlNumberHighWater} h on h.lineage_id = a.lineage_id`,
      );
    }
    case 'AS2_MIC_VALUES':
      return insertRows(as2MicValues, rows, fields, {
        id: sql`gen_random_uuid()`,
        agreementId: restoredId('agreementId'),
      });
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
const single = (category: string, message: string, run: (tx: Tx) => Promise<unknown>): Page => ({
  category,
  progress: { category, done: 1, total: 1 },
  message,
  run,
});

/**
 * One transaction of restore work: the pages of one category that come within COMMIT_MS, sent
 * without waiting for each other (up to IN_FLIGHT at a time, pipelined on the transaction's
 * connection: the database inserts one page while the next is prepared here), then the progress
 * event of the last one. Only while the plan is still RESTORING and ours: the lease is extended
 * and checked first, and the plan row stays locked until the commit.
 * Returns what follows the pages it took, or null when it took one page without reading further:
 * PGlite's one connection, held by the transaction, is needed to read the next page.
 */
async function transaction(
  rt: Runtime,
  planId: string,
  first: Page,
  pages: AsyncIterator<Page>,
): Promise<IteratorResult<Page> | null> {
  return rt.database.db.transaction(async (tx) => {
    const started = performance.now();
    await renewLease(tx, planId, rt.instanceId);
    if (rt.background.stopping) throw new NotOurs();
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
      // Only when nothing was thrown above (sent) is a failed statement's error the one to throw.
      // biome-ignore lint/correctness/noUnsafeFinally: see the line above
      if (failed && sent) throw failed.reason;
    }
    if (rt.background.stopping) throw new NotOurs(); // the server is stopping
    return next;
  });
}

/**
 * Fills a RESTORING plan's target service from the backup, category by category, in short
 * transactions that each record a progress event. Throws NotOurs when the plan stops being this
 * instance's (cancelled, taken over, the server stopping); the lifecycle ends the plan.
 */
export async function fillTarget(rt: Runtime, plan: PlanRow): Promise<void> {
  // Pages are prepared READ_AHEAD ahead of the transactions taking them: while the database inserts,
  // the next pages are read, decrypted and parsed here.
  const pages = Readable.from(pagesOf(rt, plan), { objectMode: true, highWaterMark: READ_AHEAD })[
    Symbol.asyncIterator
  ]() as AsyncIterator<Page, void>;
  try {
    for (let next = await pages.next(); !next.done; )
      next = (await transaction(rt, plan.id, next.value, pages)) ?? (await pages.next());
  } finally {
    await pages.return?.(); // a failure stops the reading of the backup
  }
}

/** The backup's content as pages to restore, in order; throws at the end if it does not match its checksum. */
async function* pagesOf(rt: Runtime, plan: PlanRow): AsyncGenerator<Page, void, undefined> {
  const { db } = rt.database;
  const [backup] = await db.select().from(backups).where(eq(backups.id, plan.backupId!));
  const totals = new Map(
    (plan.selection?.categories ?? backup!.itemCounts).map((c) => [c.category as string, c.count]),
  );
  const selected = selector(plan.selection);
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
    const insert = insertOf(
      current,
      rows,
      Object.keys(typeof rows === 'string' ? itemData(current, pending[0]!) : rows[0]!),
      plan,
    );
    pending = [];
    pendingBytes = 0;
    return {
      category: current,
      progress,
      message: `${current}: ${progress.done} of ${progress.total}`,
      run: async (tx) => tx.execute(insert),
    };
  };

  // Damaged content (a chunk that fails authentication or decompression, or a checksum mismatch):
  // the backup is CORRUPT for good, and the restore fails saying so.
  const damaged = async (error: unknown): Promise<never> => {
    await markCorrupt(rt, backup!.id);
    throw Object.assign(new Error('damaged backup content', { cause: error }), {
      operatorMessage: 'the backup content does not match its checksum; the backup is now CORRUPT',
    });
  };
  const lines = readBackup(rt, backup!);
  let unyielded = 0;
  try {
    for await (const line of lines) {
      // Preparing a page is CPU work: let the database's replies in now and then.
      unyielded += line.length;
      if (unyielded >= YIELD_BYTES) {
        unyielded = 0;
        await setImmediate();
      }
      const item = parseLine(line);
      if (item.type !== 'item') continue;
      const { data } = item;
      if (!selected(item.category, () => itemData(item.category, data) as unknown as Record<string, unknown>)) continue;
      if (item.category !== category) {
        if (pending.length) yield page();
        category = null;
        done = 0;
      }
      if (item.category === 'SERVICE_SETTINGS') {
        const settings = itemData('SERVICE_SETTINGS', data);
        yield single(item.category, 'SERVICE_SETTINGS: settings restored (secrets still encrypted)', async (tx) => {
          const kept = settings.secrets.filter(
            (s) => s.kind !== 'ARCHIVING_STORAGE_CONNECTION_STRING' || editionInfo(targetEdition).archiving,
          );
          const { scaleUnitCount, productVersion, acsNamespace } = settings;
          await restoreServiceSettings(
            tx,
            plan.serviceId!,
            { scaleUnitCount, productVersion, acsNamespace },
            kept.map((s) => ({ ...s, updatedAt: new Date(s.updatedAt) })),
          );
        });
        continue;
      }
      if (item.category === 'SSL_CERTIFICATE') {
        const ssl = itemData('SSL_CERTIFICATE', data);
        yield single(item.category, 'SSL_CERTIFICATE: restored', async (tx) =>
          restoreServiceSettings(tx, plan.serviceId!, {}, [
            {
              kind: 'SSL_CERTIFICATE',
              sealed: ssl.sealed,
              fingerprint: ssl.fingerprint,
              updatedAt: new Date(ssl.updatedAt),
            },
          ]),
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
