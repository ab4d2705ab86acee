import type { TestServer } from './server.js';
import { CREATE_SERVICE } from './operations.js';
import { until } from './wait.js';

type Gql = TestServer['gql'];

/** Runs a create<Kind>/update<Kind>/delete<Kind> mutation and returns its result (success or error). */
export async function mutate(gql: Gql, name: string, input: Record<string, unknown>, selection = 'id'): Promise<any> {
  const Type = name.charAt(0).toUpperCase() + name.slice(1);
  const field = name.startsWith('delete')
    ? 'deletedId'
    : name.replace(/^(create|update)/, '').replace(/^./, (c) => c.toLowerCase());
  const result = await gql(
    `mutation ($input: ${Type}Input!) { ${name}(input: $input) {
      __typename
      ... on ${Type}Success { ${name.startsWith('delete') ? 'deletedId' : `${field} { ${selection} }`} }
      ... on Error { code message }
      ... on ValidationError { fields { path message } }
      ${['createAgreement', 'createBridge', 'createHybridConnection'].includes(name) ? '... on LimitExceededError { limit maximum }' : ''}
    } }`,
    { input },
  );
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  const payload = result.data[name];
  if (name.startsWith('delete')) return payload;
  return payload.__typename === `${Type}Success` ? payload[field] : payload;
}

export async function createService(gql: Gql, name: string, edition = 'STANDARD', scaleUnitCount = 1): Promise<string> {
  const result = await gql(CREATE_SERVICE, { input: { name, edition, region: 'westeurope', scaleUnitCount } });
  if (!result.data?.createService?.service) throw new Error(JSON.stringify(result));
  return result.data.createService.service.id;
}

export interface BuiltService {
  serviceId: string;
  agreements: { x12: string; edifact: string; as2: string };
  profiles: { host: string; guest: string };
}

/** A realistic service: two partners with profiles, agreements on all three protocols, and one of every other artifact. */
export async function buildService(gql: Gql, name: string, edition = 'STANDARD'): Promise<BuiltService> {
  const serviceId = await createService(gql, name, edition);
  const contoso = (await mutate(gql, 'createPartner', { serviceId, name: 'Contoso' })).id;
  const fabrikam = (await mutate(gql, 'createPartner', { serviceId, name: 'Fabrikam' })).id;
  const host = (
    await mutate(gql, 'createProfile', {
      partnerId: contoso,
      name: 'Contoso EDI',
      qualifier: 'ZZ',
      identifier: 'CONTOSO',
    })
  ).id;
  const guest = (
    await mutate(gql, 'createProfile', {
      partnerId: fabrikam,
      name: 'Fabrikam EDI',
      qualifier: 'ZZ',
      identifier: 'FABRIKAM',
    })
  ).id;
  const agreement = async (agreementName: string, protocol: string, extra: Record<string, unknown> = {}) =>
    (
      await mutate(gql, 'createAgreement', {
        serviceId,
        name: agreementName,
        hostProfileId: host,
        guestProfileId: guest,
        protocol,
        ...extra,
      })
    ).id;
  const x12 = await agreement('Contoso-Fabrikam X12', 'X12', {
    sourceFtpFolder: `ftp://ftp.fabrikam.com/${name}/x12`,
    batching: true,
  });
  const edifact = await agreement('Contoso-Fabrikam EDIFACT', 'EDIFACT');
  const as2 = await agreement('Contoso-Fabrikam AS2', 'AS2');
  await mutate(gql, 'createCustomAssembly', {
    serviceId,
    name: 'Contoso.Maps',
    version: '1.0.0.0',
    contentBase64: Buffer.from('MZ assembly').toString('base64'),
  });
  await mutate(gql, 'createBridge', {
    serviceId,
    name: 'OrdersBridge',
    kind: 'XML_ONE_WAY',
    relativeAddress: 'orders/inbound',
    config: { validate: true },
  });
  await mutate(gql, 'createCertificate', {
    serviceId,
    name: 'Fabrikam signing',
    contentBase64: Buffer.from('certificate bytes').toString('base64'),
  });
  await mutate(gql, 'createTransform', { serviceId, name: 'PO to Order', mapContent: '<xsl:stylesheet/>' });
  await mutate(gql, 'createPipeline', {
    serviceId,
    name: 'Validate and route',
    definition: '{"stages":["validate","route"]}',
  });
  await mutate(gql, 'createTemplate', { serviceId, name: 'X12 partner', content: '{"protocol":"X12"}' });
  await mutate(gql, 'createX12Mapping', { serviceId, st01: '850', gs01: 'PO' });
  await mutate(gql, 'createHybridConnection', {
    serviceId,
    name: 'onprem-sql',
    host: 'sql01.contoso.local',
    port: 1433,
  });
  return { serviceId, agreements: { x12, edifact, as2 }, profiles: { host, guest } };
}

/** Backs up a service and waits until the backup SUCCEEDED; its global id. */
export async function succeededBackup(gql: Gql, serviceId: string): Promise<string> {
  const created = await gql(
    'mutation ($s: ID!) { createBackup(input: { serviceId: $s }) { ... on CreateBackupSuccess { backup { id } } } }',
    { s: serviceId },
  );
  const id = created.data?.createBackup?.backup?.id;
  if (!id) throw new Error(JSON.stringify(created));
  await until(
    () => gql('query ($id: ID!) { backup(id: $id) { status } }', { id }),
    (r) => r.data.backup.status === 'SUCCEEDED',
  );
  return id;
}

/** Everything a service holds, in a form that does not depend on ids: to compare a restored service with its source. */
export async function serviceContents(gql: Gql, serviceId: string) {
  const { data, errors } = await gql(
    `query ($id: ID!) { node(id: $id) { ... on Service {
    edition scaleUnitCount productVersion settings { acsNamespace acsIssuerKey { isSet fingerprint } trackingDatabaseConnectionString { fingerprint } sslCertificate { fingerprint } }
    partners(first: 10) { edges { node { name profiles { edges { node { name qualifier identifier } } } } } }
    agreements(first: 10) { edges { node { name protocol sourceFtpFolder batching lineageId hostProfile { name } guestProfile { name } controlNumbers { interchange group transactionSet } as2MicValues(first: 10) { totalCount edges { node { messageId value } } } } } }
    customAssemblies { edges { node { name version sha256 contentBase64 } } } bridges { edges { node { name kind relativeAddress config } } }
    certificates { edges { node { name thumbprint } } } transforms { edges { node { name mapContent } } } pipelines { edges { node { name definition } } }
    templates { edges { node { name content } } } x12Mappings { edges { node { st01 gs01 } } } hybridConnections { totalCount }
  } } }`,
    { id: serviceId },
  );
  if (errors) throw new Error(JSON.stringify(errors));
  return data.node;
}
