import { and, asc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import * as artifact from '../artifact/tables.js';
import type { Database } from '../db/client.js';
import { as2MicValues, controlNumbers } from '../edi/tables.js';
import { serviceSecrets, services } from '../service/tables.js';
import { FORMAT_VERSION, type Category, type ItemCount } from './rules.js';

type Queryable = Pick<Database, 'select'>;

/** One line of backup content. */
export type BackupRecord =
  | { type: 'header'; format: 'biztalk-backup'; version: number; service: { id: string; name: string; edition: string; region: string }; takenAt: string }
  | { type: 'item'; category: Category; data: Record<string, unknown> };

const PAGE = 500;
const BINARY_PAGE = 16; // custom assemblies are up to 4 MiB each

/** Rows of a table in pages ordered by `key`, so memory stays bounded however large the service. */
async function* pages(db: Queryable, table: PgTable, key: PgColumn, where: SQL, columns: Record<string, PgColumn>, size = PAGE) {
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

const encode = (row: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('base64') : v instanceof Date ? v.toISOString() : v]));

/**
 * Every record of a service's backup, read inside the caller's repeatable-read transaction so
 * that the whole backup is the state of one moment. Secrets are copied still sealed.
 */
export async function* snapshot(db: Queryable, serviceId: string, counts: ItemCount[]): AsyncGenerator<string> {
  const [service] = await db.select().from(services).where(eq(services.id, serviceId));
  if (!service) throw new Error('service vanished before its backup');
  const header: BackupRecord = {
    type: 'header',
    format: 'biztalk-backup',
    version: FORMAT_VERSION,
    service: { id: service.id, name: service.name, edition: service.edition, region: service.region },
    takenAt: new Date().toISOString(),
  };
  yield JSON.stringify(header);
  const count = (category: Category) => {
    let entry = counts.find((c) => c.category === category);
    if (!entry) counts.push((entry = { category, count: 0 }));
    return entry;
  };
  const item = (category: Category, data: Record<string, unknown>) => {
    count(category).count++;
    return JSON.stringify({ type: 'item', category, data: encode(data) } satisfies BackupRecord);
  };

  const secrets = await db.select().from(serviceSecrets).where(eq(serviceSecrets.serviceId, serviceId));
  const settings = {
    edition: service.edition,
    scaleUnitCount: service.scaleUnitCount,
    productVersion: service.productVersion,
    region: service.region,
    acsNamespace: service.acsNamespace,
    secrets: secrets.filter((s) => s.kind !== 'SSL_CERTIFICATE').map((s) => encode({ kind: s.kind, sealed: s.sealed, fingerprint: s.fingerprint, updatedAt: s.updatedAt })),
  };
  yield item('SERVICE_SETTINGS', settings);
  count('SSL_CERTIFICATE');
  for (const ssl of secrets.filter((s) => s.kind === 'SSL_CERTIFICATE')) yield item('SSL_CERTIFICATE', { sealed: ssl.sealed, fingerprint: ssl.fingerprint, updatedAt: ssl.updatedAt });

  const ofService = (table: PgTable & { serviceId: PgColumn }) => eq(table.serviceId, serviceId);
  const own: [Category, PgTable & { id: PgColumn; serviceId: PgColumn }, Record<string, PgColumn>, number?][] = [
    ['PARTNERS', artifact.partners, { id: artifact.partners.id, name: artifact.partners.name }],
    ['PROFILES', artifact.profiles, { id: artifact.profiles.id, partnerId: artifact.profiles.partnerId, name: artifact.profiles.name, qualifier: artifact.profiles.qualifier, identifier: artifact.profiles.identifier }],
    ['AGREEMENTS', artifact.agreements, {
      id: artifact.agreements.id, name: artifact.agreements.name, hostProfileId: artifact.agreements.hostProfileId, guestProfileId: artifact.agreements.guestProfileId,
      protocol: artifact.agreements.protocol, sourceFtpFolder: artifact.agreements.sourceFtpFolder, batching: artifact.agreements.batching, lineageId: artifact.agreements.lineageId,
    }],
    ['CUSTOM_ASSEMBLIES', artifact.customAssemblies, { id: artifact.customAssemblies.id, name: artifact.customAssemblies.name, version: artifact.customAssemblies.version, content: artifact.customAssemblies.content, sizeBytes: artifact.customAssemblies.sizeBytes, sha256: artifact.customAssemblies.sha256 }, BINARY_PAGE],
    ['BRIDGES', artifact.bridges, { id: artifact.bridges.id, name: artifact.bridges.name, kind: artifact.bridges.kind, relativeAddress: artifact.bridges.relativeAddress, config: artifact.bridges.config }],
    ['CERTIFICATES', artifact.certificates, { id: artifact.certificates.id, name: artifact.certificates.name, thumbprint: artifact.certificates.thumbprint, content: artifact.certificates.content, privateKeySealed: artifact.certificates.privateKeySealed, privateKeyFingerprint: artifact.certificates.privateKeyFingerprint }],
    ['TRANSFORMS', artifact.transforms, { id: artifact.transforms.id, name: artifact.transforms.name, mapContent: artifact.transforms.mapContent }],
    ['PIPELINES', artifact.pipelines, { id: artifact.pipelines.id, name: artifact.pipelines.name, definition: artifact.pipelines.definition }],
    ['TEMPLATES', artifact.templates, { id: artifact.templates.id, name: artifact.templates.name, content: artifact.templates.content }],
    ['X12_MAPPINGS', artifact.x12Mappings, { id: artifact.x12Mappings.id, st01: artifact.x12Mappings.st01, gs01: artifact.x12Mappings.gs01 }],
  ];
  for (const [category, table, columns, size] of own) {
    count(category);
    for await (const row of pages(db, table, table.id, ofService(table), columns, size)) yield item(category, row);
  }

  const agreementsOfService = inArray(sql`agreement_id`, db.select({ id: artifact.agreements.id }).from(artifact.agreements).where(eq(artifact.agreements.serviceId, serviceId)));
  count('CONTROL_NUMBERS');
  for await (const row of pages(db, controlNumbers, controlNumbers.agreementId, agreementsOfService, {
    agreementId: controlNumbers.agreementId, interchange: controlNumbers.interchange, group: controlNumbers.group, transactionSet: controlNumbers.transactionSet,
  })) yield item('CONTROL_NUMBERS', row);
  count('AS2_MIC_VALUES');
  for await (const row of pages(db, as2MicValues, as2MicValues.id, agreementsOfService, {
    agreementId: as2MicValues.agreementId, messageId: as2MicValues.messageId, algorithm: as2MicValues.algorithm, value: as2MicValues.value, createdAt: as2MicValues.createdAt,
  })) yield item('AS2_MIC_VALUES', row);
}
