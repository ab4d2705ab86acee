import { and, asc, eq, gt, inArray, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { agreements } from '../artifact/tables.js';
import type { Queryable } from '../db/query.js';
import { serviceSecrets, services } from '../service/tables.js';
import { categories, encodeHeader, encodeItem, encodeRow, rowCategories, written, type Category } from './format.js';
import type { ItemCount } from './rules.js';

/** Rows of a table in pages ordered by `key`, so memory stays bounded however large the service. */
async function* pages(
  db: Queryable,
  table: PgTable,
  key: PgColumn,
  where: SQL,
  columns: Record<string, PgColumn>,
  size: number,
) {
  const read = (after: unknown): Promise<Record<string, unknown>[]> =>
    db
      .select({ ...columns, _key: key })
      .from(table)
      .where(after === undefined ? where : and(where, gt(key, after)))
      .orderBy(asc(key))
      .limit(size)
      .execute();
  // The next page is read while this one is encoded and compressed.
  for (let next = read(undefined); ; ) {
    const rows = await next;
    if (rows.length === size) {
      next = read(rows[rows.length - 1]!._key);
      next.catch(() => {}); // a consumer that stops early leaves it unread: awaited above otherwise
    }
    for (const { _key, ...row } of rows) yield row;
    if (rows.length < size) return;
  }
}

/**
 * Every record of a service's backup, read inside the caller's repeatable-read transaction so
 * that the whole backup is the state of one moment. Secrets are copied still sealed.
 */
export async function* snapshot(db: Queryable, serviceId: string, counts: ItemCount[]): AsyncGenerator<string> {
  const [service] = await db.select().from(services).where(eq(services.id, serviceId));
  if (!service) throw new Error('service vanished before its backup');
  yield encodeHeader(service, new Date());
  const count = (category: Category) => {
    const found = counts.find((c) => c.category === category);
    if (found) return found;
    const entry = { category, count: 0 };
    counts.push(entry);
    return entry;
  };

  const secrets = await db.select().from(serviceSecrets).where(eq(serviceSecrets.serviceId, serviceId));
  count('SERVICE_SETTINGS').count++;
  yield encodeItem('SERVICE_SETTINGS', {
    edition: service.edition,
    scaleUnitCount: service.scaleUnitCount,
    productVersion: service.productVersion,
    region: service.region,
    acsNamespace: service.acsNamespace,
    secrets: secrets.flatMap((s) =>
      s.kind === 'SSL_CERTIFICATE'
        ? []
        : [written({ kind: s.kind, sealed: s.sealed, fingerprint: s.fingerprint, updatedAt: s.updatedAt })],
    ),
  });
  count('SSL_CERTIFICATE');
  for (const ssl of secrets.filter((s) => s.kind === 'SSL_CERTIFICATE')) {
    count('SSL_CERTIFICATE').count++;
    yield encodeItem(
      'SSL_CERTIFICATE',
      written({ sealed: ssl.sealed, fingerprint: ssl.fingerprint, updatedAt: ssl.updatedAt }),
    );
  }

  const agreementsOfService = db
    .select({ id: agreements.id })
    .from(agreements)
    .where(eq(agreements.serviceId, serviceId));
  for (const category of rowCategories) {
    const { table, columns, owner, key, readRows } = categories[category];
    count(category);
    const where =
      'serviceId' in owner ? eq(owner.serviceId, serviceId) : inArray(owner.agreementId, agreementsOfService);
    for await (const row of pages(db, table, key, where, columns, readRows)) {
      count(category).count++;
      yield encodeRow(category, row);
    }
  }
}
