import { and, eq, inArray, ne } from 'drizzle-orm';
import { builder, connectionTypes, edgeType } from '../graphql/builder.js';
import {
  type editionNames,
  editions,
  nameHoldEnds,
  regions,
  type secretKinds,
  type serviceStates,
  type Edition,
  type SecretKind,
  type ServiceState,
} from './rules.js';
import { preparedRead } from '../db/query.js';
import * as operations from './service.js';
import { services } from './tables.js';

export const EditionEnum = builder.enumType('Edition', {
  description: 'BizTalk Services editions, lowest first: a backup restores into the same or a higher edition only.',
  values: {
    FREE: { description: 'Free tier: 1 unit, no EAI bridges or agreements, no backup and restore.' },
    DEVELOPER: { description: 'For development: 1 unit, 25 bridges and 10 agreements, archiving.' },
    BASIC: { description: 'Production entry: 1–8 units, 25 bridges and 50 agreements per unit.' },
    STANDARD: { description: 'Production: 1–8 units, 125 bridges and 250 agreements per unit.' },
    PREMIUM: { description: 'Largest: 1–8 units, 500 bridges and 1000 agreements per unit, archiving.' },
  } satisfies Record<(typeof editionNames)[number], unknown>,
});

export const ServiceStateEnum = builder.enumType('ServiceState', {
  description: "A BizTalk Service environment's state; the state decides which operations are allowed.",
  values: {
    ACTIVE: { description: 'Running and processing messages.' },
    STOPPED: { description: 'Stopped by an operator; configuration can still change.' },
    SUSPENDED: { description: 'Suspended: where a restore lands, for review before it goes live.' },
    RESTORING: {
      description:
        'Being filled by a restore, or a restore is being merged into it; nothing else may change it. A merge target returns to its state afterwards.',
    },
    DELETED: { description: 'Deleted; its name is on hold for NAME_HOLD_SECONDS and its backups stay.' },
  } satisfies Record<(typeof serviceStates)[number], unknown>,
});

const EditionInfoType = builder.objectRef<(typeof editions)[number]>('EditionInfo').implement({
  description:
    'Limits and features of one edition (from the BizTalk Services editions chart); per-unit limits scale with scaleUnitCount.',
  fields: (t) => ({
    edition: t.field({ type: EditionEnum, description: 'The edition.', resolve: (e) => e.edition }),
    minScaleUnits: t.exposeInt('minScaleUnits', { description: 'Fewest scale units.' }),
    maxScaleUnits: t.exposeInt('maxScaleUnits', { description: 'Most scale units.' }),
    bridgesPerUnit: t.exposeInt('bridgesPerUnit', {
      description: 'EAI bridges per scale unit (each agreement also counts two).',
    }),
    agreementsPerUnit: t.exposeInt('agreementsPerUnit', { description: 'EDI/AS2 agreements per scale unit.' }),
    hybridConnectionsPerUnit: t.exposeInt('hybridConnectionsPerUnit', {
      description: 'Hybrid connections per scale unit.',
    }),
    backupRestore: t.exposeBoolean('backupRestore', {
      description: 'Whether services of this edition can be backed up and be restore targets.',
    }),
    archiving: t.exposeBoolean('archiving', { description: 'Whether an archiving storage account can be configured.' }),
  }),
});

const RegionType = builder.objectRef<(typeof regions)[number]>('Region').implement({
  description: 'An Azure region (datacenter) a service can run in.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The region id used in inputs, e.g. westeurope.' }),
    displayName: t.exposeString('displayName', { description: 'The region as the portal names it, e.g. West Europe.' }),
  }),
});

interface SecretRow {
  fingerprint: string;
  updatedAt: Date;
}

export const SecretInfo = builder.objectRef<{ stored: SecretRow | undefined }>('SecretInfo').implement({
  description: 'What can be known of a secret without revealing it. Secret values are never returned by the API.',
  fields: (t) => ({
    isSet: t.boolean({ description: 'Whether a value is stored.', resolve: (s) => s.stored !== undefined }),
    fingerprint: t.string({
      nullable: true,
      description:
        'A keyed hash of the value: equal fingerprints mean equal values (to check a rotation), and reveal nothing else.',
      resolve: (s) => s.stored?.fingerprint ?? null,
    }),
    updatedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the value was last set.',
      resolve: (s) => s.stored?.updatedAt ?? null,
    }),
  }),
});

interface Settings {
  acsNamespace: string | null;
  secrets: (SecretRow & { kind: SecretKind })[];
}
const secretField = (kind: SecretKind, description: string) => ({ kind, description });
const secretFields = {
  acsIssuerKey: secretField(
    'ACS_ISSUER_KEY',
    'The Access Control Service issuer key that SDK applications authenticate with.',
  ),
  trackingDatabaseConnectionString: secretField(
    'TRACKING_DATABASE_CONNECTION_STRING',
    'Connection string of the tracking database (its data is never backed up).',
  ),
  archivingStorageConnectionString: secretField(
    'ARCHIVING_STORAGE_CONNECTION_STRING',
    'Connection string of the archiving storage account (DEVELOPER and PREMIUM only).',
  ),
  monitoringStorageConnectionString: secretField(
    'MONITORING_STORAGE_CONNECTION_STRING',
    'Connection string of the monitoring storage account.',
  ),
  sslCertificate: secretField(
    'SSL_CERTIFICATE',
    'The SSL certificate (PFX data and its password) of <name>.biztalk.windows.net.',
  ),
} satisfies Record<string, { kind: (typeof secretKinds)[number]; description: string }>;

const ServiceSettings = builder.objectRef<Settings>('ServiceSettings').implement({
  description: 'BizTalk Service settings; all are backed up. Secrets show as SecretInfo only.',
  fields: (t) => ({
    acsNamespace: t.exposeString('acsNamespace', {
      nullable: true,
      description: 'The Access Control Service namespace.',
    }),
    ...Object.fromEntries(
      Object.entries(secretFields).map(([field, { kind, description }]) => [
        field,
        t.field({
          type: SecretInfo,
          description,
          resolve: (s) => ({ stored: s.secrets.find((x) => x.kind === kind) }),
        }),
      ]),
    ),
  }),
});

export const Service = builder.drizzleNode('services', {
  name: 'Service',
  description: 'A BizTalk Services environment: its settings, configuration, runtime state, backups and restores.',
  id: { column: (s) => s.id, description: 'Global id of the service.' },
  fields: (t) => ({
    name: t.exposeString('name', {
      description: 'Unique DNS label; the environment answers at <name>.biztalk.windows.net.',
    }),
    address: t.string({
      description: 'Host name of the environment.',
      resolve: (s) => `${s.name}.biztalk.windows.net`,
    }),
    edition: t.field({
      type: EditionEnum,
      description: 'The edition, which sets limits and features.',
      resolve: (s) => s.edition,
    }),
    scaleUnitCount: t.exposeInt('scaleUnitCount', {
      description: 'Scale units; per-unit limits are multiplied by it.',
    }),
    productVersion: t.exposeString('productVersion', { description: 'BizTalk Services product version.' }),
    region: t.exposeString('region', { description: 'Region (datacenter) id, one of `regions`.' }),
    state: t.field({ type: ServiceStateEnum, description: 'Current state.', resolve: (s) => s.state }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the service was created (or restored).' }),
    updatedAt: t.expose('updatedAt', {
      type: 'DateTime',
      description: 'When the service or its settings last changed.',
    }),
    deletedAt: t.expose('deletedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When it was deleted; null while it exists.',
    }),
    nameAvailableAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: "For a deleted service, when its name's hold ends and the name can be used again.",
      resolve: (s, _args, ctx) => (s.deletedAt ? nameHoldEnds(s.deletedAt, ctx.runtime.config.nameHoldSeconds) : null),
    }),
    settings: t.field({
      type: ServiceSettings,
      description: 'Settings: ACS namespace and key, connection strings, SSL certificate.',
      select: {
        columns: { acsNamespace: true },
        with: { secrets: { columns: { kind: true, fingerprint: true, updatedAt: true } } },
      },
      resolve: (s) => ({ acsNamespace: s.acsNamespace, secrets: s.secrets }),
    }),
  }),
});

const NameAvailabilityType = builder.objectRef<operations.NameAvailability>('NameAvailability').implement({
  description: 'Whether a service name can be used now.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The name asked about.' }),
    available: t.exposeBoolean('available', {
      description: 'True when a new service (or a restore) may take this name now.',
    }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why it is not available.' }),
    availableAt: t.expose('availableAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When a name on hold becomes free.',
    }),
  }),
});

builder.queryFields((t) => ({
  services: t.drizzleConnection(
    {
      type: 'services',
      description: 'Services ordered by name. Deleted services are left out unless `states` asks for DELETED.',
      authScopes: { reader: true },
      args: {
        states: t.arg({
          type: [ServiceStateEnum],
          required: false,
          description: 'Only services in one of these states.',
        }),
        edition: t.arg({ type: EditionEnum, required: false, description: 'Only services of this edition.' }),
      },
      totalCount: (_parent, args, ctx) => ctx.db.$count(services, serviceCondition(args)),
      resolve: (query, _parent, args, ctx) =>
        ctx.db.query.services.findMany(query({ where: serviceFilter(args), orderBy: { name: 'asc', id: 'asc' } })),
    },
    connectionTypes('Service'),
    edgeType('Service'),
  ),
  service: t.drizzleField({
    type: 'services',
    nullable: true,
    description: 'The live service with this name or, when none, the one deleted most recently.',
    authScopes: { reader: true },
    args: { name: t.arg.string({ required: true, description: 'Service name.' }) },
    resolve: async (query, _root, { name }, ctx) =>
      (await preparedRead(ctx.db, 'services', 'findFirst', query({ where: { name, state: { ne: 'DELETED' } } }))) ??
      (await preparedRead(
        ctx.db,
        'services',
        'findFirst',
        query({ where: { name }, orderBy: { deletedAt: 'desc' } }),
      )) ??
      null,
  }),
  nameAvailability: t.field({
    type: NameAvailabilityType,
    description: 'Whether a service name is free, and if not why and when it will be.',
    authScopes: { reader: true },
    args: { name: t.arg.string({ required: true, description: 'The name to check.' }) },
    resolve: (_root, { name }, ctx) => operations.nameAvailability(ctx.runtime, ctx.db, name),
  }),
  editions: t.field({
    type: [EditionInfoType],
    description: 'Every edition with its limits and features, lowest first.',
    authScopes: { reader: true },
    resolve: () => editions,
  }),
  regions: t.field({
    type: [RegionType],
    description: 'Regions a service can be created in or restored to.',
    authScopes: { reader: true },
    resolve: () => [...regions],
  }),
}));

interface ServiceListArgs {
  states?: readonly ServiceState[] | null;
  edition?: Edition | null;
}

/** The `services` filter, for the relational query ... */
function serviceFilter(args: ServiceListArgs) {
  return {
    state: args.states?.length ? { in: [...args.states] } : { ne: 'DELETED' as const },
    ...(args.edition ? { edition: args.edition } : {}),
  };
}

/** ... and the same filter as SQL, for its count. */
function serviceCondition(args: ServiceListArgs) {
  return and(
    args.states?.length ? inArray(services.state, [...args.states]) : ne(services.state, 'DELETED'),
    args.edition ? eq(services.edition, args.edition) : undefined,
  );
}
