import { describe, expect, it } from 'vitest';
import { buildService, createService, mutate } from './helpers/artifacts.js';
import { freshDatabase } from './helpers/database.js';
import { lifecycle } from './helpers/operations.js';
import { startServer, useTestServer } from './helpers/server.js';

const file = useTestServer();
const gql = (q: string, v?: Record<string, unknown>) => file.server.gql(q, v);

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('every artifact kind', () => {
  // kind, create input (beyond serviceId), update input, fields to read, expected after create, expected after update
  const cases: [
    string,
    Record<string, unknown>,
    Record<string, unknown>,
    string,
    Record<string, unknown>,
    Record<string, unknown>,
  ][] = [
    [
      'Partner',
      { name: 'Northwind' },
      { name: 'Northwind Traders' },
      'name',
      { name: 'Northwind' },
      { name: 'Northwind Traders' },
    ],
    [
      'CustomAssembly',
      { name: 'Maps', version: '1.0.0.0', contentBase64: b64('MZ-1') },
      { version: '1.1.0.0', contentBase64: b64('MZ-22') },
      'name version sizeBytes contentBase64',
      { name: 'Maps', version: '1.0.0.0', sizeBytes: 4, contentBase64: b64('MZ-1') },
      { name: 'Maps', version: '1.1.0.0', sizeBytes: 5, contentBase64: b64('MZ-22') },
    ],
    [
      'Bridge',
      { name: 'Orders', kind: 'XML_REQUEST_REPLY', relativeAddress: 'orders', config: { retries: 3 } },
      { relativeAddress: 'orders/v2', config: { retries: 5 } },
      'name kind relativeAddress config',
      { name: 'Orders', kind: 'XML_REQUEST_REPLY', relativeAddress: 'orders', config: { retries: 3 } },
      { name: 'Orders', kind: 'XML_REQUEST_REPLY', relativeAddress: 'orders/v2', config: { retries: 5 } },
    ],
    [
      'Certificate',
      { name: 'Signing', contentBase64: b64('cert-1') },
      { contentBase64: b64('cert-2'), privateKeyBase64: b64('key') },
      'name thumbprint privateKey { isSet }',
      {
        name: 'Signing',
        thumbprint:
          '4F1B5F8FF2F4D0C0F6D6E8C4B2E3C8C7B9A6F4B7'.length === 40 ? expect.stringMatching(/^[0-9A-F]{40}$/) : '',
        privateKey: { isSet: false },
      },
      { name: 'Signing', thumbprint: expect.stringMatching(/^[0-9A-F]{40}$/), privateKey: { isSet: true } },
    ],
    [
      'Transform',
      { name: 'PO map', mapContent: '<xsl/>' },
      { mapContent: '<xsl version="2"/>' },
      'name mapContent',
      { name: 'PO map', mapContent: '<xsl/>' },
      { name: 'PO map', mapContent: '<xsl version="2"/>' },
    ],
    [
      'Pipeline',
      { name: 'Route', definition: 'route' },
      { name: 'Route all' },
      'name definition',
      { name: 'Route', definition: 'route' },
      { name: 'Route all', definition: 'route' },
    ],
    [
      'Template',
      { name: 'T1', content: '{}' },
      { content: '{"a":1}' },
      'name content',
      { name: 'T1', content: '{}' },
      { name: 'T1', content: '{"a":1}' },
    ],
    [
      'X12Mapping',
      { st01: '810', gs01: 'IN' },
      { gs01: 'PO' },
      'st01 gs01',
      { st01: '810', gs01: 'IN' },
      { st01: '810', gs01: 'PO' },
    ],
    [
      'HybridConnection',
      { name: 'erp', host: 'erp.local', port: 8080 },
      { port: 8443 },
      'name host port',
      { name: 'erp', host: 'erp.local', port: 8080 },
      { name: 'erp', host: 'erp.local', port: 8443 },
    ],
  ];

  it.each(cases)('creates, reads, updates and deletes a %s', async (kind, create, update, fields, created, updated) => {
    const serviceId = await createService(gql, `kind-${kind.toLowerCase()}`, 'PREMIUM');
    const field = kind.charAt(0).toLowerCase() + kind.slice(1);
    const row = await mutate(gql, `create${kind}`, { serviceId, ...create }, `id ${fields}`);
    expect(row).toEqual({ id: expect.any(String), ...created });
    const fetched = await gql(
      `query ($id: ID!) { node(id: $id) { __typename ... on ${kind} { ${fields} service { id } } } }`,
      { id: row.id },
    );
    expect(fetched.data.node).toEqual({ __typename: kind, ...created, service: { id: serviceId } });
    expect(await mutate(gql, `update${kind}`, { [`${field}Id`]: row.id, ...update }, fields)).toEqual(updated);
    expect(await mutate(gql, `delete${kind}`, { [`${field}Id`]: row.id })).toEqual({
      __typename: `Delete${kind}Success`,
      deletedId: row.id,
    });
    expect((await gql('query ($id: ID!) { node(id: $id) { id } }', { id: row.id })).data.node).toBeNull();
  });

  it('reads a whole service back in one nested query', async () => {
    const built = await buildService(gql, 'nested-read');
    const { data } = await gql(
      `query ($id: ID!) { node(id: $id) { ... on Service {
      partners { totalCount edges { node { name profiles { edges { node { name qualifier identifier } } } } } }
      agreements { totalCount edges { node { name protocol sourceFtpFolder batching hostProfile { name } guestProfile { name partner { name } } controlNumbers { interchange group transactionSet } batch { messageCount } } } }
      customAssemblies { totalCount } bridges { edges { node { name kind relativeAddress config } } } certificates { totalCount }
      transforms { totalCount } pipelines { totalCount } templates { totalCount } x12Mappings { edges { node { st01 gs01 } } }
      hybridConnections { edges { node { name host port } } }
    } } }`,
      { id: built.serviceId },
    );
    const s = data.node;
    expect(s.partners).toEqual({
      totalCount: 2,
      edges: [
        {
          node: {
            name: 'Contoso',
            profiles: { edges: [{ node: { name: 'Contoso EDI', qualifier: 'ZZ', identifier: 'CONTOSO' } }] },
          },
        },
        {
          node: {
            name: 'Fabrikam',
            profiles: { edges: [{ node: { name: 'Fabrikam EDI', qualifier: 'ZZ', identifier: 'FABRIKAM' } }] },
          },
        },
      ],
    });
    expect(s.agreements.totalCount).toBe(3);
    expect(s.agreements.edges.map((e: any) => e.node)).toEqual([
      {
        name: 'Contoso-Fabrikam AS2',
        protocol: 'AS2',
        sourceFtpFolder: null,
        batching: false,
        hostProfile: { name: 'Contoso EDI' },
        guestProfile: { name: 'Fabrikam EDI', partner: { name: 'Fabrikam' } },
        controlNumbers: { interchange: 0, group: 0, transactionSet: 0 },
        batch: null,
      },
      {
        name: 'Contoso-Fabrikam EDIFACT',
        protocol: 'EDIFACT',
        sourceFtpFolder: null,
        batching: false,
        hostProfile: { name: 'Contoso EDI' },
        guestProfile: { name: 'Fabrikam EDI', partner: { name: 'Fabrikam' } },
        controlNumbers: { interchange: 0, group: 0, transactionSet: 0 },
        batch: null,
      },
      {
        name: 'Contoso-Fabrikam X12',
        protocol: 'X12',
        sourceFtpFolder: 'ftp://ftp.fabrikam.com/nested-read/x12',
        batching: true,
        hostProfile: { name: 'Contoso EDI' },
        guestProfile: { name: 'Fabrikam EDI', partner: { name: 'Fabrikam' } },
        controlNumbers: { interchange: 0, group: 0, transactionSet: 0 },
        batch: { messageCount: 0 },
      },
    ]);
    expect(s.bridges.edges).toEqual([
      {
        node: {
          name: 'OrdersBridge',
          kind: 'XML_ONE_WAY',
          relativeAddress: 'orders/inbound',
          config: { validate: true },
        },
      },
    ]);
    expect(s.x12Mappings.edges).toEqual([{ node: { st01: '850', gs01: 'PO' } }]);
    expect(s.hybridConnections.edges).toEqual([
      { node: { name: 'onprem-sql', host: 'sql01.contoso.local', port: 1433 } },
    ]);
    expect(
      [s.customAssemblies, s.certificates, s.transforms, s.pipelines, s.templates].map((c) => c.totalCount),
    ).toEqual([1, 1, 1, 1, 1]);
  });

  it('loads a page of services with agreements, profiles and control numbers in a constant number of SQL statements', async () => {
    const db = await freshDatabase();
    // The scheduler's own statements (every second by default) must not fall into the counted window.
    const own = await startServer({ ...db.env, SCHEDULER_INTERVAL_MS: '3600000' });
    const query = `{ services(first: 20) { totalCount edges { node { name
      agreements(first: 10) { totalCount edges { node { name hostProfile { name partner { name } } guestProfile { name } controlNumbers { interchange group transactionSet } batch { messageCount } } } }
      profiles(first: 10) { totalCount edges { node { name qualifier } } }
    } } } }`;
    try {
      const counts: number[] = [];
      for (const n of [1, 4]) {
        while ((await own.gql('{ services { totalCount } }')).data.services.totalCount < n) {
          await buildService(
            own.gql.bind(own),
            `counted-${(await own.gql('{ services { totalCount } }')).data.services.totalCount}`,
          );
        }
        own.queries.length = 0;
        const result = await own.gql(query);
        expect(result.errors).toBeUndefined();
        expect(result.data.services.edges).toHaveLength(n);
        expect(result.data.services.edges[0].node.agreements.totalCount).toBe(3);
        counts.push(own.queries.length);
      }
      // One statement for the page with every nested connection and count, one for the root totalCount.
      expect(counts).toEqual([2, 2]);
    } finally {
      await own.stop();
      await db.drop();
    }
  });
});

describe('validation and uniqueness', () => {
  it('refuses a duplicate name per service and kind, but allows it in another service', async () => {
    const a = await createService(gql, 'unique-a');
    const b = await createService(gql, 'unique-b');
    await mutate(gql, 'createPartner', { serviceId: a, name: 'Contoso' });
    expect(await mutate(gql, 'createPartner', { serviceId: a, name: 'Contoso' })).toEqual({
      __typename: 'NameUnavailableError',
      code: 'NAME_UNAVAILABLE',
      message: 'A partner named "Contoso" already exists in this service',
    });
    expect(await mutate(gql, 'createPartner', { serviceId: b, name: 'Contoso' })).toEqual({ id: expect.any(String) });
  });

  it('refuses a second profile with the same qualifier and identifier in one service', async () => {
    const serviceId = await createService(gql, 'unique-identity');
    const partnerId = (await mutate(gql, 'createPartner', { serviceId, name: 'P' })).id;
    await mutate(gql, 'createProfile', { partnerId, name: 'one', qualifier: 'ZZ', identifier: 'ACME' });
    expect(
      await mutate(gql, 'createProfile', { partnerId, name: 'two', qualifier: 'ZZ', identifier: 'ACME' }),
    ).toMatchObject({
      code: 'NAME_UNAVAILABLE',
      message: 'Another profile of this service already has qualifier ZZ and identifier ACME',
    });
  });

  it('refuses a second bridge at the same relative address and a second mapping of one ST01', async () => {
    const serviceId = await createService(gql, 'unique-address');
    await mutate(gql, 'createBridge', { serviceId, name: 'one', kind: 'PASS_THROUGH', relativeAddress: 'in' });
    expect(
      await mutate(gql, 'createBridge', { serviceId, name: 'two', kind: 'PASS_THROUGH', relativeAddress: 'in' }),
    ).toMatchObject({ code: 'NAME_UNAVAILABLE', message: 'Another bridge of this service already listens at in' });
    await mutate(gql, 'createX12Mapping', { serviceId, st01: '856', gs01: 'SH' });
    expect(await mutate(gql, 'createX12Mapping', { serviceId, st01: '856', gs01: 'PO' })).toMatchObject({
      code: 'NAME_UNAVAILABLE',
    });
  });

  it.each([
    [
      'createAgreement',
      {
        name: 'a',
        hostProfileId: 'x',
        guestProfileId: 'y',
        protocol: 'X12',
        sourceFtpFolder: 'http://ftp.example.com/in',
      },
      ['input', 'sourceFtpFolder'],
      'must be an ftp:// or ftps:// URL, e.g. ftp://ftp.contoso.com/inbound',
    ],
    [
      'createX12Mapping',
      { st01: '123', gs01: 'PO' },
      ['input', 'st01'],
      '"123" is not a known X12 transaction set id (e.g. 850, 810, 856)',
    ],
    [
      'createX12Mapping',
      { st01: '850', gs01: 'ZZ' },
      ['input', 'gs01'],
      '"ZZ" is not a known X12 functional identifier code (e.g. PO, IN, SH)',
    ],
    [
      'createBridge',
      { name: 'b', kind: 'PASS_THROUGH', relativeAddress: '../escape' },
      ['input', 'relativeAddress'],
      'must be path segments of letters, digits and . _ ~ -, e.g. orders/inbound',
    ],
    [
      'createCustomAssembly',
      { name: 'a', version: '1.0', contentBase64: 'not*base64' },
      ['input', 'contentBase64'],
      'must be non-empty base64',
    ],
    [
      'createCustomAssembly',
      { name: 'a', version: 'one', contentBase64: 'QQ==' },
      ['input', 'version'],
      'must be a version such as 1.0.0.0',
    ],
    ['createHybridConnection', { name: 'h', host: 'db', port: 70000 }, ['input', 'port'], 'must be from 1 to 65535'],
    [
      'createPartner',
      { name: ' padded' },
      ['input', 'name'],
      'must be 1 to 100 characters, without leading or trailing spaces or control characters',
    ],
  ])('%s refuses bad input with the field path', async (mutation, input, path, message) => {
    const serviceId = await createService(gql, `bad-${Math.random().toString(36).slice(2, 8)}`);
    expect(await mutate(gql, mutation, { serviceId, ...input })).toMatchObject({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      fields: [{ path, message }],
    });
  });

  it('refuses a custom assembly larger than 4 MiB', async () => {
    const serviceId = await createService(gql, 'big-assembly');
    const contentBase64 = Buffer.alloc(4 * 1024 * 1024 + 1).toString('base64');
    expect(
      await mutate(gql, 'createCustomAssembly', { serviceId, name: 'huge', version: '1.0', contentBase64 }),
    ).toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ path: ['input', 'contentBase64'], message: 'is 4194305 bytes; the limit is 4194304 bytes' }],
    });
  });

  it('refuses an agreement between two profiles of the same partner', async () => {
    const serviceId = await createService(gql, 'same-partner');
    const partnerId = (await mutate(gql, 'createPartner', { serviceId, name: 'Solo' })).id;
    const p1 = (await mutate(gql, 'createProfile', { partnerId, name: 'one', qualifier: 'ZZ', identifier: 'ONE' })).id;
    const p2 = (await mutate(gql, 'createProfile', { partnerId, name: 'two', qualifier: 'ZZ', identifier: 'TWO' })).id;
    expect(
      await mutate(gql, 'createAgreement', {
        serviceId,
        name: 'loop',
        hostProfileId: p1,
        guestProfileId: p2,
        protocol: 'X12',
      }),
    ).toMatchObject({
      fields: [{ path: ['input', 'guestProfileId'], message: 'must belong to another partner than the host profile' }],
    });
  });

  it('refuses to delete a profile (or its partner) that an agreement uses, and deletes it once unused', async () => {
    const built = await buildService(gql, 'profile-in-use');
    expect(await mutate(gql, 'deleteProfile', { profileId: built.profiles.guest })).toEqual({
      __typename: 'InvalidStateError',
      code: 'INVALID_STATE',
      message:
        'Cannot delete profile "Fabrikam EDI": agreement "Contoso-Fabrikam AS2" uses it; delete or change that agreement first',
    });
    const partner = (
      await gql('query ($id: ID!) { node(id: $id) { ... on Profile { partner { id } } } }', {
        id: built.profiles.guest,
      })
    ).data.node.partner.id;
    expect((await mutate(gql, 'deletePartner', { partnerId: partner })).code).toBe('INVALID_STATE');
    for (const id of Object.values(built.agreements))
      expect((await mutate(gql, 'deleteAgreement', { agreementId: id })).deletedId).toBe(id);
    expect((await mutate(gql, 'deletePartner', { partnerId: partner })).deletedId).toBe(partner);
    expect((await gql('query ($id: ID!) { node(id: $id) { id } }', { id: built.profiles.guest })).data.node).toBeNull();
  });

  it('refuses artifact changes on a deleted service', async () => {
    const serviceId = await createService(gql, 'gone-service');
    const partnerId = (await mutate(gql, 'createPartner', { serviceId, name: 'Kept' })).id;
    await gql(lifecycle('deleteService'), { id: serviceId });
    expect(await mutate(gql, 'createPartner', { serviceId, name: 'New' })).toMatchObject({
      code: 'INVALID_STATE',
      message:
        'Cannot changeArtifacts service "gone-service" while it is DELETED; allowed in: ACTIVE, STOPPED, SUSPENDED',
    });
    expect(await mutate(gql, 'updatePartner', { partnerId, name: 'Renamed' })).toMatchObject({ code: 'INVALID_STATE' });
  });
});

describe('edition limits', () => {
  it('counts two bridges per agreement: a DEVELOPER service takes 10 agreements, then only 5 bridges', async () => {
    const built = await buildService(gql, 'dev-limits', 'DEVELOPER'); // 3 agreements and 1 bridge
    for (let i = 0; i < 7; i++) {
      expect(
        (
          await mutate(gql, 'createAgreement', {
            serviceId: built.serviceId,
            name: `extra-${i}`,
            hostProfileId: built.profiles.host,
            guestProfileId: built.profiles.guest,
            protocol: 'X12',
          })
        ).id,
      ).toEqual(expect.any(String));
    }
    expect(
      await mutate(gql, 'createAgreement', {
        serviceId: built.serviceId,
        name: 'eleventh',
        hostProfileId: built.profiles.host,
        guestProfileId: built.profiles.guest,
        protocol: 'X12',
      }),
    ).toEqual({
      __typename: 'LimitExceededError',
      code: 'LIMIT_EXCEEDED',
      message: 'DEVELOPER at 1 unit(s) allows 10 agreements; this needs 11',
      limit: 'agreements',
      maximum: 10,
    });
    for (let i = 0; i < 4; i++)
      await mutate(gql, 'createBridge', {
        serviceId: built.serviceId,
        name: `b${i}`,
        kind: 'PASS_THROUGH',
        relativeAddress: `b${i}`,
      });
    expect(
      await mutate(gql, 'createBridge', {
        serviceId: built.serviceId,
        name: 'b5',
        kind: 'PASS_THROUGH',
        relativeAddress: 'b5',
      }),
    ).toEqual({
      __typename: 'LimitExceededError',
      code: 'LIMIT_EXCEEDED',
      message: 'DEVELOPER at 1 unit(s) allows 25 bridges (each agreement counts two); this needs 26',
      limit: 'bridges',
      maximum: 25,
    });
  });

  it('gives a FREE service no agreements and five hybrid connections', async () => {
    const serviceId = await createService(gql, 'free-limits', 'FREE');
    const partner = async (name: string, identifier: string) =>
      (
        await mutate(gql, 'createProfile', {
          partnerId: (await mutate(gql, 'createPartner', { serviceId, name })).id,
          name,
          qualifier: 'ZZ',
          identifier,
        })
      ).id;
    const [h, g] = [await partner('h', 'H'), await partner('g', 'G')];
    expect(
      (
        await mutate(gql, 'createAgreement', {
          serviceId,
          name: 'a',
          hostProfileId: h,
          guestProfileId: g,
          protocol: 'AS2',
        })
      ).code,
    ).toBe('LIMIT_EXCEEDED');
    for (let i = 0; i < 5; i++)
      await mutate(gql, 'createHybridConnection', { serviceId, name: `h${i}`, host: 'host', port: 1000 + i });
    expect(
      await mutate(gql, 'createHybridConnection', { serviceId, name: 'h5', host: 'host', port: 2000 }),
    ).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'hybridConnections', maximum: 5 });
  });

  it('refuses to scale a service below what its artifacts need', async () => {
    const serviceId = await createService(gql, 'scale-down', 'BASIC', 2);
    for (let i = 0; i < 26; i++)
      await mutate(gql, 'createBridge', { serviceId, name: `b${i}`, kind: 'PASS_THROUGH', relativeAddress: `b${i}` });
    const result = await gql(
      'mutation ($id: ID!) { scaleService(input: { serviceId: $id, scaleUnitCount: 1 }) { __typename ... on Error { code message } } }',
      { id: serviceId },
    );
    expect(result.data.scaleService).toEqual({
      __typename: 'LimitExceededError',
      code: 'LIMIT_EXCEEDED',
      message: 'BASIC at 1 unit(s) allows 25 bridges (each agreement counts two); this needs 26',
    });
  });

  it('never lets concurrent creates pass the limit', async () => {
    const serviceId = await createService(gql, 'racing-limits', 'FREE');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        mutate(gql, 'createHybridConnection', { serviceId, name: `r${i}`, host: 'host', port: 1000 + i }),
      ),
    );
    expect(results.filter((r) => r.id).length).toBe(5);
    expect(results.filter((r) => r.code === 'LIMIT_EXCEEDED').length).toBe(5);
  });
});

// createPartner and updateAgreement make their change and write their audit entry in one statement.
describe('changes made in one statement', () => {
  const auditOf = async (serviceId: string, operation: string) =>
    (
      await gql(
        'query ($id: ID, $op: String) { auditLog(serviceId: $id, operation: $op) { edges { node { tokenName operation targetId outcome } } } }',
        {
          id: serviceId,
          op: operation,
        },
      )
    ).data.auditLog.edges.map((e: { node: unknown }) => e.node);

  it('creates one partner of concurrent creates of one name; the others get NAME_UNAVAILABLE; each call audited once', async () => {
    const serviceId = await createService(gql, 'race-partner');
    const results = await Promise.all(
      Array.from({ length: 8 }, () => mutate(gql, 'createPartner', { serviceId, name: 'Contoso' }, 'id name')),
    );
    const created = results.filter((r) => r.id);
    expect(created).toEqual([{ id: expect.any(String), name: 'Contoso' }]);
    expect(results.filter((r) => !r.id)).toEqual(
      Array.from({ length: 7 }, () => ({
        __typename: 'NameUnavailableError',
        code: 'NAME_UNAVAILABLE',
        message: 'A partner named "Contoso" already exists in this service',
      })),
    );
    const partners = await gql('query ($id: ID!) { node(id: $id) { ... on Service { partners { totalCount } } } }', {
      id: serviceId,
    });
    expect(partners.data.node.partners.totalCount).toBe(1);
    const entry = { tokenName: 'ADMIN_TOKEN', operation: 'createPartner', targetId: serviceId };
    expect(
      (await auditOf(serviceId, 'createPartner')).sort((a: { outcome: string }, b: { outcome: string }) =>
        a.outcome.localeCompare(b.outcome),
      ),
    ).toEqual([
      ...Array.from({ length: 7 }, () => ({ ...entry, outcome: 'NAME_UNAVAILABLE' })),
      { ...entry, outcome: 'SUCCEEDED' },
    ]);
  });

  it('answers updateAgreement of a missing agreement with NOT_FOUND and audits it', async () => {
    const missing = Buffer.from('Agreement:00000000-0000-4000-8000-000000000017').toString('base64');
    expect(await mutate(gql, 'updateAgreement', { agreementId: missing, name: 'Renamed' })).toEqual({
      __typename: 'NotFoundError',
      code: 'NOT_FOUND',
      message: 'No Agreement has the id 00000000-0000-4000-8000-000000000017',
    });
    const log = await gql(
      '{ auditLog(operation: "updateAgreement", first: 50) { edges { node { targetId outcome } } } }',
    );
    expect(log.data.auditLog.edges.map((e: { node: unknown }) => e.node)).toContainEqual({
      targetId: missing,
      outcome: 'NOT_FOUND',
    });
  });

  it('changes nothing on a service in the wrong state: createPartner and updateAgreement answer INVALID_STATE', async () => {
    const built = await buildService(gql, 'wrong-state');
    await gql(lifecycle('deleteService'), { id: built.serviceId });
    const message =
      'Cannot changeArtifacts service "wrong-state" while it is DELETED; allowed in: ACTIVE, STOPPED, SUSPENDED';
    expect(await mutate(gql, 'createPartner', { serviceId: built.serviceId, name: 'Late' })).toEqual({
      __typename: 'InvalidStateError',
      code: 'INVALID_STATE',
      message,
    });
    expect(
      await mutate(gql, 'updateAgreement', {
        agreementId: built.agreements.edifact,
        name: 'Renamed',
        sourceFtpFolder: 'ftp://late.example.com/in',
      }),
    ).toEqual({ __typename: 'InvalidStateError', code: 'INVALID_STATE', message });
    const agreement = await gql('query ($id: ID!) { node(id: $id) { ... on Agreement { name sourceFtpFolder } } }', {
      id: built.agreements.edifact,
    });
    expect(agreement.data.node).toEqual({ name: 'Contoso-Fabrikam EDIFACT', sourceFtpFolder: null });
    const partners = await gql('query ($id: ID!) { node(id: $id) { ... on Service { partners { totalCount } } } }', {
      id: built.serviceId,
    });
    expect(partners.data.node.partners.totalCount).toBe(2);
    expect((await auditOf(built.serviceId, 'createPartner')).map((e: { outcome: string }) => e.outcome)).toEqual([
      'INVALID_STATE',
      'SUCCEEDED',
      'SUCCEEDED',
    ]);
  });

  it('renames an agreement in one statement and refuses a name another agreement of the service has', async () => {
    const built = await buildService(gql, 'rename-agreement');
    expect(
      await mutate(gql, 'updateAgreement', { agreementId: built.agreements.as2, name: 'Contoso-Fabrikam X12' }),
    ).toEqual({
      __typename: 'NameUnavailableError',
      code: 'NAME_UNAVAILABLE',
      message: 'An agreement named "Contoso-Fabrikam X12" already exists in this service',
    });
    expect(
      await mutate(
        gql,
        'updateAgreement',
        { agreementId: built.agreements.as2, name: 'AS2 renamed', sourceFtpFolder: 'ftp://as2.example.com/in' },
        'id name protocol sourceFtpFolder batching',
      ),
    ).toEqual({
      id: built.agreements.as2,
      name: 'AS2 renamed',
      protocol: 'AS2',
      sourceFtpFolder: 'ftp://as2.example.com/in',
      batching: false,
    });
  });
});
