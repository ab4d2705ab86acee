import type { GetColumnData } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import * as artifact from '../artifact/tables.js';
import { as2MicValues, controlNumbers } from '../edi/tables.js';
import type { Edition, SecretKind } from '../service/rules.js';
import { DamagedContentError } from './content.js';

/**
 * The backup's content: NDJSON, a header line, then one item line per row, category by category in
 * the order of `categories`. This module alone writes (encode*) and reads (parse*) those lines.
 * Backups already written must stay readable: what is written is never changed, only added to.
 */

/** Version of the content format; a restore reads the versions it knows. */
export const FORMAT_VERSION = 1;
const FORMAT_NAME = 'biztalk-backup';

/** A value as an item line holds it: timestamps as ISO text, binary content as base64. */
export type Written<T> = T extends Date ? string : T extends Buffer ? string : T;
export type WrittenFields<R> = { [K in keyof R]: Written<R[K]> };

type Columns = Record<string, PgColumn>;

/** Rows per query when the snapshot reads a category; binary rows are large (assemblies up to 4 MiB). */
const READ_ROWS = 500;
const BINARY_READ_ROWS = 16;

/** A category with at most one item, built by the snapshot from the service and its secrets. */
const single = <D>(): { kind: 'single'; data?: D } => ({ kind: 'single' });

/**
 * A category whose items are rows of `table` (read from it by the snapshot, inserted into it by the
 * restore), each holding `columns`; read in order of the unique `key`, belonging to the service by
 * their own serviceId or by the agreement they belong to.
 */
const rows = <C extends Columns>(spec: {
  table: PgTable;
  columns: C;
  owner: { serviceId: PgColumn } | { agreementId: PgColumn };
  key: PgColumn;
  readRows?: number;
}) => ({
  kind: 'rows' as const,
  ...spec,
  readRows: spec.readRows ?? READ_ROWS,
});
const ownRows = <C extends Columns>(
  table: PgTable & { id: PgColumn; serviceId: PgColumn },
  columns: C,
  readRows?: number,
) => rows({ table, columns, owner: { serviceId: table.serviceId }, key: table.id, readRows });

/** A secret of the service's settings, still sealed (the SSL certificate is a category of its own). */
export interface SealedSecret {
  kind: Exclude<SecretKind, 'SSL_CERTIFICATE'>;
  sealed: string;
  fingerprint: string;
  updatedAt: string;
}
export interface ServiceSettings {
  edition: Edition;
  scaleUnitCount: number;
  productVersion: string;
  region: string;
  acsNamespace: string | null;
  secrets: SealedSecret[];
}
export interface SslCertificate {
  sealed: string;
  fingerprint: string;
  updatedAt: string;
}

const {
  partners,
  profiles,
  agreements,
  customAssemblies: assemblies,
  bridges,
  certificates,
  transforms,
  pipelines,
  templates,
  x12Mappings,
} = artifact;

/**
 * What a backup holds, in the order it is written (the seed's "What gets backed up" table). The
 * columns of a row category are its items' data, keys in this order; adding a category is one entry
 * here (its data type follows from it).
 */
export const categories = {
  SERVICE_SETTINGS: single<ServiceSettings>(),
  SSL_CERTIFICATE: single<SslCertificate>(),
  PARTNERS: ownRows(partners, { id: partners.id, name: partners.name }),
  PROFILES: ownRows(profiles, {
    id: profiles.id,
    partnerId: profiles.partnerId,
    name: profiles.name,
    qualifier: profiles.qualifier,
    identifier: profiles.identifier,
  }),
  AGREEMENTS: ownRows(agreements, {
    id: agreements.id,
    name: agreements.name,
    hostProfileId: agreements.hostProfileId,
    guestProfileId: agreements.guestProfileId,
    protocol: agreements.protocol,
    sourceFtpFolder: agreements.sourceFtpFolder,
    batching: agreements.batching,
    lineageId: agreements.lineageId,
  }),
  CUSTOM_ASSEMBLIES: ownRows(
    assemblies,
    {
      id: assemblies.id,
      name: assemblies.name,
      version: assemblies.version,
      content: assemblies.content,
      sizeBytes: assemblies.sizeBytes,
      sha256: assemblies.sha256,
    },
    BINARY_READ_ROWS,
  ),
  BRIDGES: ownRows(bridges, {
    id: bridges.id,
    name: bridges.name,
    kind: bridges.kind,
    relativeAddress: bridges.relativeAddress,
    config: bridges.config,
  }),
  CERTIFICATES: ownRows(certificates, {
    id: certificates.id,
    name: certificates.name,
    thumbprint: certificates.thumbprint,
    content: certificates.content,
    privateKeySealed: certificates.privateKeySealed,
    privateKeyFingerprint: certificates.privateKeyFingerprint,
  }),
  TRANSFORMS: ownRows(transforms, { id: transforms.id, name: transforms.name, mapContent: transforms.mapContent }),
  PIPELINES: ownRows(pipelines, { id: pipelines.id, name: pipelines.name, definition: pipelines.definition }),
  TEMPLATES: ownRows(templates, { id: templates.id, name: templates.name, content: templates.content }),
  X12_MAPPINGS: ownRows(x12Mappings, { id: x12Mappings.id, st01: x12Mappings.st01, gs01: x12Mappings.gs01 }),
  CONTROL_NUMBERS: rows({
    table: controlNumbers,
    columns: {
      agreementId: controlNumbers.agreementId,
      interchange: controlNumbers.interchange,
      group: controlNumbers.group,
      transactionSet: controlNumbers.transactionSet,
    },
    owner: { agreementId: controlNumbers.agreementId },
    key: controlNumbers.agreementId,
  }),
  AS2_MIC_VALUES: rows({
    table: as2MicValues,
    columns: {
      agreementId: as2MicValues.agreementId,
      messageId: as2MicValues.messageId,
      algorithm: as2MicValues.algorithm,
      value: as2MicValues.value,
      createdAt: as2MicValues.createdAt,
    },
    owner: { agreementId: as2MicValues.agreementId },
    key: as2MicValues.id,
  }),
};

export type Category = keyof typeof categories;
/** The categories whose items are rows of a table. */
export type RowCategory = { [C in Category]: (typeof categories)[C] extends { kind: 'rows' } ? C : never }[Category];

type DataOf<S> = S extends { kind: 'single'; data?: infer D }
  ? Exclude<D, undefined>
  : S extends { kind: 'rows'; columns: infer C extends Columns }
    ? { [K in keyof C]: Written<GetColumnData<C[K]>> }
    : never;
/** The data of an item of a category, as its line holds it. */
export type ItemData<C extends Category> = DataOf<(typeof categories)[C]>;

/** Every category, in backup order. */
export const categoryOrder = Object.keys(categories) as Category[];
export const isCategory = (name: string): name is Category => Object.hasOwn(categories, name);
export const rowCategories = categoryOrder.filter((c): c is RowCategory => categories[c].kind === 'rows');
const binary = new Set<Category>(
  rowCategories.filter((c) => Object.values(categories[c].columns).some((column) => column.getSQLType() === 'bytea')),
);
/** Whether a category's items hold binary content (as base64). */
export const isBinary = (category: Category): boolean => binary.has(category);

export interface BackupHeader {
  type: 'header';
  format: typeof FORMAT_NAME;
  version: number;
  service: { id: string; name: string; edition: string; region: string };
  takenAt: string;
}

/** The header line: which service, when, in which format version. */
export function encodeHeader(service: BackupHeader['service'], takenAt: Date): string {
  const header: BackupHeader = {
    type: 'header',
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    service: { id: service.id, name: service.name, edition: service.edition, region: service.region },
    takenAt: takenAt.toISOString(),
  };
  return JSON.stringify(header);
}

/** A row as read from the database, its values as a line holds them (top-level values only). */
export function written<R extends Record<string, unknown>>(row: R): WrittenFields<R> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [
      k,
      Buffer.isBuffer(v) ? v.toString('base64') : v instanceof Date ? v.toISOString() : v,
    ]),
  ) as WrittenFields<R>;
}

// An item line starts with exactly this text (the key order JSON.stringify keeps): a restore takes
// the data after it as JSON text without parsing the line.
const ITEM_START = '{"type":"item","category":"';
const DATA_START = '","data":';

/** An item line. */
export function encodeItem<C extends Category>(category: C, data: ItemData<C>): string {
  return JSON.stringify({ type: 'item', category, data });
}

/** The item line of a row read from its category's table with exactly `categories[category].columns`. */
export function encodeRow(category: RowCategory, row: Record<string, unknown>): string {
  return JSON.stringify({ type: 'item', category, data: written(row) });
}

/** A line as read: the header, or an item with its data still JSON text (see itemData). */
export type BackupLine = { type: 'header'; header: BackupHeader } | { type: 'item'; category: Category; data: string };

const damaged = (message: string) => new DamagedContentError(`backup content: ${message}`);

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw damaged(`${what} is not JSON`);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function isHeader(value: unknown): value is BackupHeader {
  return (
    isObject(value) &&
    value.type === 'header' &&
    value.format === FORMAT_NAME &&
    typeof value.version === 'number' &&
    isObject(value.service) &&
    typeof value.takenAt === 'string'
  );
}

/**
 * Reads a line: an item's category and its data as JSON text, unparsed (the restore passes it to the
 * database as it is), or the header. Throws DamagedContentError for a line this module cannot have
 * written (an unknown category, a line of another shape). An item's data is not checked here: the
 * content is authenticated and checksummed, so an item line is as encodeItem wrote it.
 */
export function parseLine(line: string): BackupLine {
  if (line.startsWith(ITEM_START)) {
    const end = line.indexOf('"', ITEM_START.length);
    const category = line.slice(ITEM_START.length, end);
    const data =
      end === -1 || !line.startsWith(DATA_START, end) || !line.endsWith('}')
        ? ''
        : line.slice(end + DATA_START.length, -1);
    if (!data) throw damaged('an item line that is not {"type":"item","category":…,"data":…}');
    if (!isCategory(category)) throw damaged(`an item of unknown category ${JSON.stringify(category.slice(0, 64))}`);
    return { type: 'item', category, data };
  }
  const record = parseJson(line, 'a line');
  if (isHeader(record)) return { type: 'header', header: record };
  throw damaged('a line that is neither the header nor an item');
}

/** The data of an item (its JSON text from parseLine), parsed. */
export function itemData<C extends Category>(category: C, data: string): ItemData<C> {
  const value = parseJson(data, `the data of a ${category} item`);
  if (!isObject(value)) throw damaged(`the data of a ${category} item is not an object`);
  if (category === 'SERVICE_SETTINGS' && !Array.isArray(value.secrets))
    throw damaged('the service settings have no list of secrets');
  return value as ItemData<C>;
}
