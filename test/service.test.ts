import { describe, expect, it } from 'vitest';
import { freshDatabase } from './helpers/database.js';
import { CREATE_SERVICE, lifecycle } from './helpers/operations.js';
import { startServer, useTestServer } from './helpers/server.js';

const file = useTestServer({ NAME_HOLD_SECONDS: '2' });
let counter = 0;

async function createService(input: Record<string, unknown> = {}) {
  const name = `svc-${++counter}-${Date.now().toString(36)}`;
  const result = await file.server.gql(CREATE_SERVICE, {
    input: { name, edition: 'STANDARD', region: 'westeurope', ...input },
  });
  return result.data!.createService;
}

async function run(mutation: string, id: string) {
  return (await file.server.gql(lifecycle(mutation), { id })).data![mutation];
}

describe('creating a service', () => {
  it('creates an ACTIVE service with the edition minimum of scale units and version 1.0', async () => {
    const { data } = await file.server.gql(CREATE_SERVICE, {
      input: { name: 'contoso-edi', edition: 'BASIC', region: 'northeurope' },
    });
    expect(data.createService).toEqual({
      __typename: 'CreateServiceSuccess',
      service: {
        id: expect.any(String),
        name: 'contoso-edi',
        edition: 'BASIC',
        scaleUnitCount: 1,
        productVersion: '1.0',
        region: 'northeurope',
        state: 'ACTIVE',
        deletedAt: null,
      },
    });
  });

  it.each([
    ['abc', 'service name must be 4 to 50 characters long, got 3'],
    ['a'.repeat(51), 'service name must be 4 to 50 characters long, got 51'],
    ['1abc', 'service name must start with a lowercase letter'],
    ['Abcd', 'service name must start with a lowercase letter'],
    ['abcd-', 'service name must not end with a hyphen'],
    ['ab_cd', 'service name may contain only lowercase letters, digits and hyphens'],
    ['abCd', 'service name may contain only lowercase letters, digits and hyphens'],
  ])('refuses the name %j with the field path', async (name, message) => {
    const { data } = await file.server.gql(CREATE_SERVICE, { input: { name, edition: 'BASIC', region: 'westus' } });
    expect(data.createService).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      message: `input.name: ${message}`,
      fields: [{ path: ['input', 'name'], message }],
    });
  });

  it('refuses an unknown region', async () => {
    const { data } = await file.server.gql(CREATE_SERVICE, {
      input: { name: 'nowhere-svc', edition: 'BASIC', region: 'mars' },
    });
    expect(data.createService.code).toBe('VALIDATION_FAILED');
    expect(data.createService.fields).toEqual([
      { path: ['input', 'region'], message: 'unknown region "mars"; the regions query lists the valid ones' },
    ]);
  });

  it('refuses scale units outside the edition range', async () => {
    const { data } = await file.server.gql(CREATE_SERVICE, {
      input: { name: 'dev-too-big', edition: 'DEVELOPER', region: 'westus', scaleUnitCount: 2 },
    });
    expect(data.createService).toMatchObject({
      __typename: 'LimitExceededError',
      code: 'LIMIT_EXCEEDED',
      limit: 'scaleUnits',
      maximum: 1,
    });
  });

  it('refuses a name a live service has', async () => {
    await file.server.gql(CREATE_SERVICE, { input: { name: 'taken-name', edition: 'BASIC', region: 'westus' } });
    const { data } = await file.server.gql(CREATE_SERVICE, {
      input: { name: 'taken-name', edition: 'PREMIUM', region: 'eastus' },
    });
    expect(data.createService).toMatchObject({
      __typename: 'NameUnavailableError',
      code: 'NAME_UNAVAILABLE',
      availableAt: null,
    });
  });

  it('gives one name to exactly one of several concurrent creates', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        file.server.gql(CREATE_SERVICE, { input: { name: 'race-name', edition: 'BASIC', region: 'westus' } }),
      ),
    );
    const kinds = results.map((r) => r.data.createService.__typename).sort();
    expect(kinds).toEqual(['CreateServiceSuccess', ...Array(7).fill('NameUnavailableError')]);
  });

  it('answers input of the wrong type with a 400 naming the value, not a 500', async () => {
    const result = await file.server.gql(CREATE_SERVICE, { input: { name: 'x', edition: 'GOLD', region: 'westus' } });
    expect(result.status).toBe(400);
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.message).toContain('Value "GOLD" does not exist in "Edition" enum');
  });
});

describe('the service state machine', () => {
  it('follows start, stop, restart, suspend and resume through the allowed states', async () => {
    const { service } = await createService();
    expect((await run('stopService', service.id)).service.state).toBe('STOPPED');
    expect((await run('startService', service.id)).service.state).toBe('ACTIVE');
    expect((await run('restartService', service.id)).service.state).toBe('ACTIVE');
    expect((await run('stopService', service.id)).service.state).toBe('STOPPED');
    expect((await run('restartService', service.id)).service.state).toBe('ACTIVE');
    expect((await run('suspendService', service.id)).service.state).toBe('SUSPENDED');
    expect((await run('resumeService', service.id)).service.state).toBe('ACTIVE');
  });

  // Each row: the operations refused in that state (SPEC §2 state table).
  it.each([
    ['ACTIVE', [], ['startService', 'resumeService']],
    ['STOPPED', ['stopService'], ['stopService', 'suspendService', 'resumeService']],
    ['SUSPENDED', ['suspendService'], ['startService', 'stopService', 'restartService', 'suspendService']],
    [
      'DELETED',
      ['deleteService'],
      ['startService', 'stopService', 'restartService', 'suspendService', 'resumeService', 'deleteService'],
    ],
  ])(
    'in state %s refuses what the state table forbids with INVALID_STATE and changes nothing',
    async (state, path, refused) => {
      const { service } = await createService();
      const setup =
        state === 'SUSPENDED'
          ? ['suspendService']
          : state === 'STOPPED'
            ? ['stopService']
            : state === 'DELETED'
              ? ['deleteService']
              : [];
      for (const m of setup) expect((await run(m, service.id)).service.state).toBe(state);
      expect(path.length).toBe(setup.length);
      for (const mutation of refused) {
        const result = await run(mutation, service.id);
        expect(result).toMatchObject({ __typename: 'InvalidStateError', code: 'INVALID_STATE', state });
        expect(result.message).toContain(`while it is ${state}`);
      }
      const { data } = await file.server.gql('query ($id: ID!) { node(id: $id) { ... on Service { state } } }', {
        id: service.id,
      });
      expect(data.node.state).toBe(state);
    },
  );

  it('refuses scaling and settings changes unless ACTIVE', async () => {
    const { service } = await createService();
    await run('stopService', service.id);
    const scale = await file.server.gql(
      'mutation ($id: ID!) { scaleService(input: { serviceId: $id, scaleUnitCount: 2 }) { __typename ... on Error { code } } }',
      { id: service.id },
    );
    expect(scale.data.scaleService).toEqual({ __typename: 'InvalidStateError', code: 'INVALID_STATE' });
    const settings = await file.server.gql(
      'mutation ($id: ID!) { updateServiceSettings(input: { serviceId: $id, acsNamespace: "contoso" }) { __typename ... on Error { code } } }',
      { id: service.id },
    );
    expect(settings.data.updateServiceSettings).toEqual({ __typename: 'InvalidStateError', code: 'INVALID_STATE' });
  });

  it('scales within the edition limits and refuses beyond them', async () => {
    const { service } = await createService({ edition: 'PREMIUM' });
    const scale = (n: number) =>
      file.server.gql(
        'mutation ($id: ID!, $n: Int!) { scaleService(input: { serviceId: $id, scaleUnitCount: $n }) { __typename ... on ScaleServiceSuccess { service { scaleUnitCount } } ... on LimitExceededError { code maximum } } }',
        { id: service.id, n },
      );
    expect((await scale(8)).data.scaleService).toEqual({
      __typename: 'ScaleServiceSuccess',
      service: { scaleUnitCount: 8 },
    });
    expect((await scale(9)).data.scaleService).toEqual({
      __typename: 'LimitExceededError',
      code: 'LIMIT_EXCEEDED',
      maximum: 8,
    });
    expect((await scale(0)).data.scaleService).toEqual({
      __typename: 'LimitExceededError',
      code: 'LIMIT_EXCEEDED',
      maximum: 8,
    });
  });

  it('answers an id that is not a service with NOT_FOUND and a malformed id with VALIDATION_FAILED', async () => {
    const missing = Buffer.from('Service:00000000-0000-4000-8000-000000000000').toString('base64');
    expect((await run('stopService', missing)).code).toBe('NOT_FOUND');
    expect((await run('stopService', Buffer.from('Backup:xyz').toString('base64'))).code).toBe('NOT_FOUND');
    const malformed = await run('stopService', '%%%');
    expect(malformed).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('deleting a service and the name hold', () => {
  it('holds the name of a deleted service until NAME_HOLD_SECONDS have passed, then frees it', async () => {
    const created = await file.server.gql(CREATE_SERVICE, {
      input: { name: 'held-name', edition: 'BASIC', region: 'westus' },
    });
    const id = created.data.createService.service.id;
    const deleted = await run('deleteService', id);
    expect(deleted.service.state).toBe('DELETED');
    expect(deleted.service.deletedAt).toEqual(expect.any(String));
    const availableAt = new Date(Date.parse(deleted.service.deletedAt) + 2000).toISOString();

    const check = await file.server.gql(
      '{ nameAvailability(name: "held-name") { name available reason availableAt } }',
    );
    expect(check.data.nameAvailability).toEqual({
      name: 'held-name',
      available: false,
      reason: `The name is on hold after its service was deleted; it becomes free at ${availableAt}`,
      availableAt,
    });
    const again = await file.server.gql(CREATE_SERVICE, {
      input: { name: 'held-name', edition: 'BASIC', region: 'westus' },
    });
    expect(again.data.createService).toMatchObject({ __typename: 'NameUnavailableError', availableAt });

    await new Promise((r) => setTimeout(r, Date.parse(availableAt) - Date.now() + 100));
    expect(
      (await file.server.gql('{ nameAvailability(name: "held-name") { available reason } }')).data.nameAvailability,
    ).toEqual({ available: true, reason: null });
    const reused = await file.server.gql(CREATE_SERVICE, {
      input: { name: 'held-name', edition: 'BASIC', region: 'westus' },
    });
    expect(reused.data.createService.service).toMatchObject({ name: 'held-name', state: 'ACTIVE' });
    expect(reused.data.createService.service.id).not.toBe(id);
  });

  it('says why an invalid or live name is not available', async () => {
    await createService({ name: 'live-name' });
    const { data } = await file.server.gql(
      '{ a: nameAvailability(name: "live-name") { available reason } b: nameAvailability(name: "X") { available reason } c: nameAvailability(name: "free-name") { available reason } }',
    );
    expect(data).toEqual({
      a: { available: false, reason: 'An ACTIVE service has this name; delete it first or pick another name' },
      b: { available: false, reason: 'Not a valid service name: it must be 4 to 50 characters long, got 1' },
      c: { available: true, reason: null },
    });
  });
});

describe('queries', () => {
  it('lists services by name with filters and totalCount, leaving out deleted ones by default', async () => {
    const db = await freshDatabase();
    const own = await startServer(db.env);
    try {
      for (const [name, edition] of [
        ['bravo', 'BASIC'],
        ['alpha', 'PREMIUM'],
        ['charlie', 'BASIC'],
        ['delta', 'BASIC'],
      ]) {
        await own.gql(CREATE_SERVICE, { input: { name: `${name}-svc`, edition, region: 'westus' } });
      }
      const delta = (await own.gql('{ service(name: "delta-svc") { id } }')).data.service.id;
      await own.gql(lifecycle('deleteService'), { id: delta });
      const list = (args: string) =>
        own.gql(`{ services(${args}) { totalCount edges { node { name edition state } } pageInfo { hasNextPage } } }`);
      expect((await list('first: 2')).data.services).toEqual({
        totalCount: 3,
        edges: [
          { node: { name: 'alpha-svc', edition: 'PREMIUM', state: 'ACTIVE' } },
          { node: { name: 'bravo-svc', edition: 'BASIC', state: 'ACTIVE' } },
        ],
        pageInfo: { hasNextPage: true },
      });
      expect((await list('edition: BASIC')).data.services.edges.map((e: any) => e.node.name)).toEqual([
        'bravo-svc',
        'charlie-svc',
      ]);
      expect((await list('states: [DELETED]')).data.services).toMatchObject({
        totalCount: 1,
        edges: [{ node: { name: 'delta-svc', state: 'DELETED' } }],
      });
    } finally {
      await own.stop();
      await db.drop();
    }
  });

  it('pages forward with cursors without skipping or repeating', async () => {
    const names: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = (
        await file.server.gql(
          'query ($after: String) { services(first: 3, after: $after) { edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }',
          { after },
        )
      ).data.services;
      names.push(...page.edges.map((e: any) => e.node.name));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const all = (await file.server.gql('{ services(first: 100) { totalCount edges { node { name } } } }')).data
      .services;
    expect(names).toEqual(all.edges.map((e: any) => e.node.name));
    expect(new Set(names).size).toBe(all.totalCount);
  });

  it('finds a service by name and by global id', async () => {
    const { service } = await createService({ edition: 'PREMIUM', region: 'japaneast' });
    const byName = await file.server.gql('query ($name: String!) { service(name: $name) { id name address region } }', {
      name: service.name,
    });
    expect(byName.data.service).toEqual({
      id: service.id,
      name: service.name,
      address: `${service.name}.biztalk.windows.net`,
      region: 'japaneast',
    });
    const byId = await file.server.gql('query ($id: ID!) { node(id: $id) { __typename id ... on Service { name } } }', {
      id: service.id,
    });
    expect(byId.data.node).toEqual({ __typename: 'Service', id: service.id, name: service.name });
    expect((await file.server.gql('{ service(name: "no-such-service") { id } }')).data.service).toBeNull();
  });

  it('answers service(name:) asked at once for several names, live and deleted, each with its own service', async () => {
    const live = await Promise.all(
      (['BASIC', 'STANDARD', 'PREMIUM'] as const).map((edition) => createService({ edition })),
    );
    const gone = (await createService({ edition: 'DEVELOPER' })).service;
    expect((await run('deleteService', gone.id)).__typename).toBe('DeleteServiceSuccess');
    const names = [...live.map((r) => r.service.name as string), gone.name as string];
    const answers = await Promise.all(
      [...names, ...names, 'no-such-service'].map((name) =>
        file.server.gql('query ($name: String!) { service(name: $name) { name edition state } }', { name }),
      ),
    );
    const expected = [
      ...live.map((r) => ({ name: r.service.name, edition: r.service.edition, state: 'ACTIVE' })),
      { name: gone.name, edition: 'DEVELOPER', state: 'DELETED' },
    ];
    expect(answers.map((a) => a.data.service)).toEqual([...expected, ...expected, null]);
  });

  it('lists the editions with their limits and the regions', async () => {
    const { data } = await file.server.gql(
      '{ editions { edition minScaleUnits maxScaleUnits bridgesPerUnit agreementsPerUnit hybridConnectionsPerUnit backupRestore archiving } regions { name displayName } }',
    );
    expect(data.editions).toEqual([
      {
        edition: 'FREE',
        minScaleUnits: 1,
        maxScaleUnits: 1,
        bridgesPerUnit: 0,
        agreementsPerUnit: 0,
        hybridConnectionsPerUnit: 5,
        backupRestore: false,
        archiving: false,
      },
      {
        edition: 'DEVELOPER',
        minScaleUnits: 1,
        maxScaleUnits: 1,
        bridgesPerUnit: 25,
        agreementsPerUnit: 10,
        hybridConnectionsPerUnit: 5,
        backupRestore: true,
        archiving: true,
      },
      {
        edition: 'BASIC',
        minScaleUnits: 1,
        maxScaleUnits: 8,
        bridgesPerUnit: 25,
        agreementsPerUnit: 50,
        hybridConnectionsPerUnit: 10,
        backupRestore: true,
        archiving: false,
      },
      {
        edition: 'STANDARD',
        minScaleUnits: 1,
        maxScaleUnits: 8,
        bridgesPerUnit: 125,
        agreementsPerUnit: 250,
        hybridConnectionsPerUnit: 50,
        backupRestore: true,
        archiving: false,
      },
      {
        edition: 'PREMIUM',
        minScaleUnits: 1,
        maxScaleUnits: 8,
        bridgesPerUnit: 500,
        agreementsPerUnit: 1000,
        hybridConnectionsPerUnit: 100,
        backupRestore: true,
        archiving: true,
      },
    ]);
    expect(data.regions).toHaveLength(15);
    expect(data.regions).toContainEqual({ name: 'westeurope', displayName: 'West Europe' });
  });
});
