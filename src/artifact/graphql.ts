import { builder, connectionTypes, edgeType, sharedConnection } from '../graphql/builder.js';
import { SecretInfo, Service } from '../service/graphql.js';
import type { bridgeKinds, protocols } from './rules.js';

export const ProtocolEnum = builder.enumType('Protocol', {
  description: 'Protocol of an EDI/AS2 agreement.',
  values: {
    X12: { description: 'ANSI X12 (ISA/GS/ST envelopes; control numbers ISA13, GS06, ST02).' },
    EDIFACT: { description: 'UN/EDIFACT (UNB/UNG/UNH envelopes).' },
    AS2: { description: 'AS2 over HTTP; each message records a MIC value.' },
  } satisfies Record<(typeof protocols)[number], unknown>,
});

export const BridgeKindEnum = builder.enumType('BridgeKind', {
  description: 'Kind of EAI bridge.',
  values: {
    XML_ONE_WAY: { description: 'Receives XML messages and routes them on, without a reply.' },
    XML_REQUEST_REPLY: { description: 'Receives an XML request and returns a reply.' },
    PASS_THROUGH: { description: 'Routes messages of any format unchanged.' },
  } satisfies Record<(typeof bridgeKinds)[number], unknown>,
});

/** The field builders of the artifact types, as far as the shared fields below use them. */
interface Stampable<Ref> {
  expose(name: 'createdAt' | 'updatedAt', options: { type: 'DateTime'; description: string }): Ref;
}
interface WithService<Ref> {
  relation(name: 'service', options: { description: string }): Ref;
}

const stampFields = <Ref>(t: Stampable<Ref>) => ({
  createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
  updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it last changed.' }),
});

const serviceField = <Ref>(t: WithService<Ref>) =>
  t.relation('service', { description: 'The service this belongs to.' });

export const Partner = builder.drizzleNode('partners', {
  name: 'Partner',
  description: 'A trading partner of the service (Trading Partner Management).',
  id: { column: (p) => p.id },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Name, unique within the service.' }),
    service: serviceField(t),
    profiles: t.relatedConnection(
      'profiles',
      { description: "The partner's business profiles.", totalCount: true, query: { orderBy: { name: 'asc' } } },
      ProfileConnection,
    ),
    ...stampFields(t),
  }),
});

export const Profile = builder.drizzleNode('profiles', {
  name: 'Profile',
  description: "A partner's business profile: the EDI identity (qualifier + identifier) agreements are made between.",
  id: { column: (p) => p.id },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Name, unique within the service.' }),
    qualifier: t.exposeString('qualifier', { description: 'ID qualifier (ISA05/ISA07), e.g. ZZ.' }),
    identifier: t.exposeString('identifier', {
      description: 'Identifier (ISA06/ISA08); qualifier + identifier are unique within the service.',
    }),
    partner: t.relation('partner', { description: 'The partner this profile belongs to.' }),
    ...stampFields(t),
  }),
});

/** A partner's profiles and all of a service's profiles page through one ProfileConnection. */
const ProfileConnection = sharedConnection(Profile, 'Profile');

export const Agreement = builder.drizzleNode('agreements', {
  name: 'Agreement',
  description: 'An EDI/AS2 trading agreement between a host profile and a guest profile, with its control numbers.',
  id: { column: (a) => a.id },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Name, unique within the service.' }),
    protocol: t.field({ type: ProtocolEnum, description: 'X12, EDIFACT or AS2.', resolve: (a) => a.protocol }),
    sourceFtpFolder: t.exposeString('sourceFtpFolder', {
      nullable: true,
      description:
        "The FTP folder the inbound transport pulls messages from (ftp:// or ftps:// URL); two live agreements pulling the same folder steal each other's messages.",
    }),
    batching: t.exposeBoolean('batching', {
      description: 'Whether outbound messages wait in a batch until it is released.',
    }),
    lineageId: t.exposeID('lineageId', {
      description: 'Line of descent kept across restores; control numbers never repeat along it.',
    }),
    hostProfile: t.relation('hostProfile', { description: 'The profile of the hosting partner (your side).' }),
    guestProfile: t.relation('guestProfile', { description: 'The profile of the guest partner (the other side).' }),
    service: serviceField(t),
    ...stampFields(t),
  }),
});

export const CustomAssembly = builder.drizzleNode('customAssemblies', {
  name: 'CustomAssembly',
  description: 'A custom .NET assembly deployed to the service (used by bridges and transforms).',
  id: { column: (a) => a.id },
  select: {},
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Assembly name, unique within the service.' }),
    version: t.exposeString('version', { description: 'Assembly version, e.g. 1.0.0.0.' }),
    sizeBytes: t.exposeInt('sizeBytes', { description: 'Size of the binary in bytes.' }),
    sha256: t.exposeString('sha256', { description: 'SHA-256 of the binary, hex.' }),
    contentBase64: t.string({
      description: 'The binary, base64-encoded (only loaded when asked for).',
      select: { columns: { content: true } },
      resolve: (a) => a.content.toString('base64'),
    }),
    service: serviceField(t),
    ...stampFields(t),
  }),
});

export const Bridge = builder.drizzleNode('bridges', {
  name: 'Bridge',
  description: 'An EAI bridge deployed to the service. Each agreement also uses two bridges of the edition limit.',
  id: { column: (b) => b.id },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Name, unique within the service.' }),
    kind: t.field({ type: BridgeKindEnum, description: 'Kind of bridge.', resolve: (b) => b.kind }),
    relativeAddress: t.exposeString('relativeAddress', {
      description: 'Address relative to the service endpoint, unique within the service.',
    }),
    config: t.field({
      type: 'JSON',
      nullable: true,
      description: 'Bridge configuration (JSON).',
      resolve: (b) => b.config ?? null,
    }),
    service: serviceField(t),
    ...stampFields(t),
  }),
});

export const Certificate = builder.drizzleNode('certificates', {
  name: 'Certificate',
  description: 'A certificate uploaded to the service; its private key, if any, is a secret.',
  id: { column: (c) => c.id },
  select: {},
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Name, unique within the service.' }),
    thumbprint: t.exposeString('thumbprint', { description: 'SHA-1 thumbprint of the certificate, uppercase hex.' }),
    contentBase64: t.string({
      description: 'The certificate (public part), base64-encoded.',
      select: { columns: { content: true } },
      resolve: (c) => c.content.toString('base64'),
    }),
    privateKey: t.field({
      type: SecretInfo,
      description: 'Whether a private key is stored (never its value).',
      select: { columns: { privateKeyFingerprint: true, updatedAt: true } },
      resolve: (c) => ({
        stored: c.privateKeyFingerprint ? { fingerprint: c.privateKeyFingerprint, updatedAt: c.updatedAt } : undefined,
      }),
    }),
    service: serviceField(t),
    ...stampFields(t),
  }),
});

interface TextArtifactFields<Ref, Field extends string> extends Stampable<Ref>, WithService<Ref> {
  exposeString(name: 'name' | Field, options: { description: string }): Ref;
}

/** The fields of an artifact that is a named text: its name, its content field, its service, its stamps. */
const textFields = <Ref, const Field extends string>(
  t: TextArtifactFields<Ref, NoInfer<Field>>,
  field: Field,
  fieldDescription: string,
) => ({
  name: t.exposeString('name', { description: 'Name, unique within the service.' }),
  [field]: t.exposeString(field, { description: fieldDescription }),
  service: serviceField(t),
  ...stampFields(t),
});

export const Transform = builder.drizzleNode('transforms', {
  name: 'Transform',
  description: 'A transform (map) deployed to the service.',
  id: { column: (r) => r.id },
  fields: (t) => textFields(t, 'mapContent', 'The map (XSLT or .trfm content).'),
});
export const Pipeline = builder.drizzleNode('pipelines', {
  name: 'Pipeline',
  description: 'A message-processing pipeline of the service.',
  id: { column: (r) => r.id },
  fields: (t) => textFields(t, 'definition', 'The pipeline definition.'),
});
export const Template = builder.drizzleNode('templates', {
  name: 'Template',
  description: 'A template saved in the BizTalk Services portal.',
  id: { column: (r) => r.id },
  fields: (t) => textFields(t, 'content', 'The template content.'),
});

export const X12Mapping = builder.drizzleNode('x12Mappings', {
  name: 'X12Mapping',
  description: 'Maps an X12 transaction set id (ST01) to the functional identifier code of its group (GS01).',
  id: { column: (m) => m.id },
  fields: (t) => ({
    st01: t.exposeString('st01', { description: 'Transaction set identifier, e.g. 850; unique within the service.' }),
    gs01: t.exposeString('gs01', { description: 'Functional identifier code, e.g. PO.' }),
    service: serviceField(t),
    ...stampFields(t),
  }),
});

export const HybridConnection = builder.drizzleNode('hybridConnections', {
  name: 'HybridConnection',
  description: 'A hybrid connection to an on-premises host. Never backed up: recreate it after a restore.',
  id: { column: (h) => h.id },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Name, unique within the service.' }),
    host: t.exposeString('host', { description: 'On-premises host name.' }),
    port: t.exposeInt('port', { description: 'TCP port.' }),
    service: serviceField(t),
    ...stampFields(t),
  }),
});

builder.drizzleObjectFields(Service, (t) => ({
  partners: t.relatedConnection(
    'partners',
    { description: 'Trading partners.', totalCount: true, query: { orderBy: { name: 'asc' } } },
    connectionTypes('Partner'),
    edgeType('Partner'),
  ),
  profiles: t.relatedConnection(
    'profiles',
    { description: 'Business profiles of all partners.', totalCount: true, query: { orderBy: { name: 'asc' } } },
    ProfileConnection,
  ),
  agreements: t.relatedConnection(
    'agreements',
    { description: 'EDI/AS2 agreements.', totalCount: true, query: { orderBy: { name: 'asc' } } },
    connectionTypes('Agreement'),
    edgeType('Agreement'),
  ),
  customAssemblies: t.relatedConnection(
    'customAssemblies',
    { description: 'Custom assemblies deployed.', totalCount: true, query: { orderBy: { name: 'asc' } } },
    connectionTypes('CustomAssembly'),
    edgeType('CustomAssembly'),
  ),
  bridges: t.relatedConnection(
    'bridges',
    { description: 'EAI bridges deployed.', totalCount: true, query: { orderBy: { name: 'asc' } } },
    connectionTypes('Bridge'),
    edgeType('Bridge'),
  ),
  certificates: t.relatedConnection(
    'certificates',
    { description: 'Certificates.', totalCount: true, query: { orderBy: { name: 'asc' } } },
    connectionTypes('Certificate'),
    edgeType('Certificate'),
  ),
  transforms: t.relatedConnection(
    'transforms',
    { description: 'Transforms deployed.', totalCount: true, query: { orderBy: { name: 'asc' } } },
    connectionTypes('Transform'),
    edgeType('Transform'),
  ),
  pipelines: t.relatedConnection(
    'pipelines',
    { description: 'Pipelines.', totalCount: true, query: { orderBy: { name: 'asc' } } },
    connectionTypes('Pipeline'),
    edgeType('Pipeline'),
  ),
  templates: t.relatedConnection(
    'templates',
    { description: 'Templates saved in the portal.', totalCount: true, query: { orderBy: { name: 'asc' } } },
    connectionTypes('Template'),
    edgeType('Template'),
  ),
  x12Mappings: t.relatedConnection(
    'x12Mappings',
    { description: 'X12 ST01 → GS01 mappings.', totalCount: true, query: { orderBy: { st01: 'asc' } } },
    connectionTypes('X12Mapping'),
    edgeType('X12Mapping'),
  ),
  hybridConnections: t.relatedConnection(
    'hybridConnections',
    { description: 'Hybrid connections (never backed up).', totalCount: true, query: { orderBy: { name: 'asc' } } },
    connectionTypes('HybridConnection'),
    edgeType('HybridConnection'),
  ),
}));
