import { boolean, index, integer, jsonb, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { bytea, stamp } from '../db/columns.js';
import { services } from '../service/tables.js';
import { bridgeKinds, protocols } from './rules.js';

const id = () => uuid('id').primaryKey().defaultRandom();
const serviceId = () =>
  uuid('service_id')
    .notNull()
    .references(() => services.id, { onDelete: 'cascade' });
const name = () => text('name').notNull();
const stamps = () => ({
  createdAt: stamp('created_at'),
  updatedAt: stamp('updated_at'),
});

export const partners = pgTable('partners', { id: id(), serviceId: serviceId(), name: name(), ...stamps() }, (t) => [
  unique('partners_service_name_key').on(t.serviceId, t.name),
]);

export const profiles = pgTable(
  'profiles',
  {
    id: id(),
    serviceId: serviceId(),
    partnerId: uuid('partner_id')
      .notNull()
      .references(() => partners.id, { onDelete: 'cascade' }),
    name: name(),
    qualifier: text('qualifier').notNull(),
    identifier: text('identifier').notNull(),
    ...stamps(),
  },
  (t) => [
    unique('profiles_service_name_key').on(t.serviceId, t.name),
    unique('profiles_service_identity_key').on(t.serviceId, t.qualifier, t.identifier),
    index('profiles_partner_idx').on(t.partnerId),
  ],
);

export const agreements = pgTable(
  'agreements',
  {
    id: id(),
    serviceId: serviceId(),
    name: name(),
    hostProfileId: uuid('host_profile_id')
      .notNull()
      .references(() => profiles.id),
    guestProfileId: uuid('guest_profile_id')
      .notNull()
      .references(() => profiles.id),
    protocol: text('protocol', { enum: protocols }).notNull(),
    sourceFtpFolder: text('source_ftp_folder'),
    batching: boolean('batching').notNull().default(false),
    /** The agreement's line of descent: kept by restores, so control numbers never repeat along it. */
    lineageId: uuid('lineage_id').notNull().defaultRandom(),
    ...stamps(),
  },
  (t) => [
    unique('agreements_service_name_key').on(t.serviceId, t.name),
    index('agreements_host_profile_idx').on(t.hostProfileId),
    index('agreements_guest_profile_idx').on(t.guestProfileId),
    index('agreements_ftp_idx').on(t.sourceFtpFolder),
  ],
);

export const customAssemblies = pgTable(
  'custom_assemblies',
  {
    id: id(),
    serviceId: serviceId(),
    name: name(),
    version: text('version').notNull(),
    content: bytea('content').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    sha256: text('sha256').notNull(),
    ...stamps(),
  },
  (t) => [unique('custom_assemblies_service_name_key').on(t.serviceId, t.name)],
);

export const bridges = pgTable(
  'bridges',
  {
    id: id(),
    serviceId: serviceId(),
    name: name(),
    kind: text('kind', { enum: bridgeKinds }).notNull(),
    relativeAddress: text('relative_address').notNull(),
    config: jsonb('config').$type<unknown>(),
    ...stamps(),
  },
  (t) => [
    unique('bridges_service_name_key').on(t.serviceId, t.name),
    unique('bridges_service_address_key').on(t.serviceId, t.relativeAddress),
  ],
);

export const certificates = pgTable(
  'certificates',
  {
    id: id(),
    serviceId: serviceId(),
    name: name(),
    thumbprint: text('thumbprint').notNull(),
    content: bytea('content').notNull(),
    /** Sealed by crypto.ts; shown only as SecretInfo. */
    privateKeySealed: text('private_key_sealed'),
    privateKeyFingerprint: text('private_key_fingerprint'),
    ...stamps(),
  },
  (t) => [unique('certificates_service_name_key').on(t.serviceId, t.name)],
);

export const transforms = pgTable(
  'transforms',
  { id: id(), serviceId: serviceId(), name: name(), mapContent: text('map_content').notNull(), ...stamps() },
  (t) => [unique('transforms_service_name_key').on(t.serviceId, t.name)],
);

export const pipelines = pgTable(
  'pipelines',
  { id: id(), serviceId: serviceId(), name: name(), definition: text('definition').notNull(), ...stamps() },
  (t) => [unique('pipelines_service_name_key').on(t.serviceId, t.name)],
);

export const templates = pgTable(
  'templates',
  { id: id(), serviceId: serviceId(), name: name(), content: text('content').notNull(), ...stamps() },
  (t) => [unique('templates_service_name_key').on(t.serviceId, t.name)],
);

export const x12Mappings = pgTable(
  'x12_mappings',
  { id: id(), serviceId: serviceId(), st01: text('st01').notNull(), gs01: text('gs01').notNull(), ...stamps() },
  (t) => [unique('x12_mappings_service_st01_key').on(t.serviceId, t.st01)],
);

export const hybridConnections = pgTable(
  'hybrid_connections',
  {
    id: id(),
    serviceId: serviceId(),
    name: name(),
    host: text('host').notNull(),
    port: integer('port').notNull(),
    ...stamps(),
  },
  (t) => [unique('hybrid_connections_service_name_key').on(t.serviceId, t.name)],
);
