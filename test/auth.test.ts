import { describe, expect, it } from 'vitest';
import { createService } from './helpers/artifacts.js';
import { ADMIN_TOKEN, startServer, useTestServer } from './helpers/server.js';
import { freshDatabase } from './helpers/database.js';

const file = useTestServer();
const gql = (q: string, v?: Record<string, unknown>, token?: string | null) => file.server.gql(q, v, token);

async function token(name: string, role: string): Promise<string> {
  const r = await gql(
    'mutation ($n: String!, $r: Role!) { createApiToken(input: { name: $n, role: $r }) { ... on CreateApiTokenSuccess { secret token { id name role } } } }',
    { n: name, r: role },
  );
  return r.data.createApiToken.secret;
}

interface Field {
  name: string;
  args: { name: string; type: TypeRef }[];
}
interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}

const INTROSPECT = `{ __schema {
  mutationType { fields { name args { name type { ...T } } } }
  queryType { fields { name args { name type { ...T } } } }
  subscriptionType { fields { name } }
  types { name kind enumValues { name } inputFields { name type { ...T } } }
} }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`;

/** A value of the right type for every required input field, so each mutation passes GraphQL validation. */
function dummy(type: TypeRef, types: any[]): unknown {
  if (type.kind === 'NON_NULL') return dummy(type.ofType!, types);
  if (type.kind === 'LIST') return [];
  const named = types.find((t) => t.name === type.name);
  switch (type.name) {
    case 'ID':
      return Buffer.from('Service:00000000-0000-4000-8000-000000000000').toString('base64');
    case 'String':
      return 'matrix-value';
    case 'Int':
      return 1;
    case 'Boolean':
      return false;
    case 'JSON':
      return {};
    case 'DateTime':
      return new Date().toISOString();
  }
  if (named.kind === 'ENUM') return named.enumValues[0].name;
  return Object.fromEntries(
    named.inputFields.filter((f: any) => f.type.kind === 'NON_NULL').map((f: any) => [f.name, dummy(f.type, types)]),
  );
}

const ADMIN_ONLY = [
  'updateServiceSettings',
  'deleteService',
  'createApiToken',
  'revokeApiToken',
  'lockBackup',
  'createBackupStore',
  'updateBackupStore',
  'deleteBackupStore',
  'importBackups',
];

describe('roles', () => {
  it('enforces READER, OPERATOR and ADMIN on every mutation: a refused one returns the FORBIDDEN error type', async () => {
    const schema = (await gql(INTROSPECT)).data.__schema;
    const mutations: Field[] = schema.mutationType.fields;
    expect(mutations.length).toBeGreaterThan(40);
    const tokens = {
      READER: await token('matrix-reader', 'READER'),
      OPERATOR: await token('matrix-operator', 'OPERATOR'),
      ADMIN: ADMIN_TOKEN,
    };
    const forbidden: Record<string, string[]> = { READER: [], OPERATOR: [], ADMIN: [] };
    for (const m of mutations) {
      const input = dummy(m.args[0]!.type, schema.types);
      for (const [role, secret] of Object.entries(tokens)) {
        const r = await gql(
          `mutation ($input: ${m.args[0]!.type.ofType!.name}!) { ${m.name}(input: $input) { __typename ... on Error { code } } }`,
          { input },
          secret,
        );
        expect(r.errors, `${role} ${m.name}`).toBeUndefined();
        if (r.data[m.name].code === 'FORBIDDEN') forbidden[role]!.push(m.name);
      }
    }
    expect(forbidden.READER).toEqual(mutations.map((m) => m.name));
    expect(forbidden.OPERATOR!.sort()).toEqual([...ADMIN_ONLY].sort());
    expect(forbidden.ADMIN).toEqual([]);
  });

  it('lets every role read and subscribe, but only ADMIN read tokens and the audit log', async () => {
    const reader = await token('query-reader', 'READER');
    const read = await gql(
      '{ viewer { tokenName role } editions { edition } services { totalCount } apiTokens { totalCount } auditLog { totalCount } }',
      {},
      reader,
    );
    expect(read.data).toEqual({
      viewer: { tokenName: 'query-reader', role: 'READER' },
      editions: expect.any(Array),
      services: { totalCount: expect.any(Number) },
      apiTokens: null,
      auditLog: null,
    });
    expect(read.errors!.map((e) => [e.path, e.extensions!.code])).toEqual([
      [['apiTokens'], 'FORBIDDEN'],
      [['auditLog'], 'FORBIDDEN'],
    ]);
    const admin = await gql(
      '{ viewer { tokenName role } apiTokens { totalCount edges { node { name role revokedAt } } } }',
    );
    expect(admin.data.viewer).toEqual({ tokenName: 'ADMIN_TOKEN', role: 'ADMIN' });
    expect(admin.data.apiTokens.edges.map((e: any) => e.node.name)).toContain('query-reader');
    expect(JSON.stringify(admin.data)).not.toContain(reader);
  });

  it('refuses every operation without a token with UNAUTHENTICATED', async () => {
    const schema = (await gql(INTROSPECT)).data.__schema;
    for (const q of schema.queryType.fields as Field[]) {
      const args = q.args
        .filter((a) => a.type.kind === 'NON_NULL')
        .map((a) => `${a.name}: ${JSON.stringify(dummy(a.type, schema.types))}`)
        .join(', ');
      const r = await gql(`{ ${q.name}${args ? `(${args})` : ''} { __typename } }`, {}, null);
      expect([q.name, r.status, r.errors?.[0]?.extensions?.code]).toEqual([q.name, 401, 'UNAUTHENTICATED']);
    }
    const m = await gql('mutation { deleteService(input: { serviceId: "x" }) { __typename } }', {}, null);
    expect([m.status, m.errors![0]!.extensions!.code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('API tokens', () => {
  it('shows a token secret once, stores it hashed, and a revoked token stops working at once, closing its subscriptions', async () => {
    const created = await gql(
      'mutation { createApiToken(input: { name: "short-lived", role: OPERATOR }) { ... on CreateApiTokenSuccess { secret token { id name role revokedAt } } } }',
    );
    const { secret, token: t } = created.data.createApiToken;
    expect(secret).toMatch(/^btb_[A-Za-z0-9_-]{43}$/);
    expect(t).toMatchObject({ name: 'short-lived', role: 'OPERATOR', revokedAt: null });
    const stored = await file.server.app.runtime.database.db.query.apiTokens.findFirst({
      where: { name: 'short-lived' },
    });
    expect(stored!.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect((await gql('{ viewer { tokenName } }', {}, secret)).data.viewer.tokenName).toBe('short-lived');

    const client = file.server.ws(secret);
    const closed = new Promise<any>((resolve) =>
      client.subscribe(
        { query: 'subscription { serviceStateChanged { state } }' },
        { next: () => {}, error: resolve, complete: () => resolve('completed') },
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    const revoked = await gql(
      'mutation ($id: ID!) { revokeApiToken(input: { tokenId: $id }) { ... on RevokeApiTokenSuccess { token { revokedAt } } } }',
      { id: t.id },
    );
    expect(revoked.data.revokeApiToken.token.revokedAt).toEqual(expect.any(String));
    expect((await closed).code).toBe(4403);
    const after = await gql('{ viewer { tokenName } }', {}, secret);
    expect([after.status, after.errors![0]!.extensions!.code, after.errors![0]!.message]).toEqual([
      401,
      'UNAUTHENTICATED',
      'The token was not accepted: it is wrong, or it was revoked. Ask an ADMIN for a valid one (createApiToken)',
    ]);
  });

  it('ends an open SSE subscription when its token is revoked', async () => {
    const created = await gql(
      'mutation { createApiToken(input: { name: "sse-token", role: READER }) { ... on CreateApiTokenSuccess { secret token { id } } } }',
    );
    const { secret, token: t } = created.data.createApiToken;
    const response = await fetch(file.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ query: 'subscription { serviceStateChanged { state } }' }),
    });
    expect(response.status).toBe(200);
    const body = response.text(); // resolves when the server ends the stream
    await new Promise((r) => setTimeout(r, 300));
    await gql('mutation ($id: ID!) { revokeApiToken(input: { tokenId: $id }) { __typename } }', { id: t.id });
    const text = await Promise.race([body, new Promise<string>((r) => setTimeout(() => r('still open'), 5000))]);
    expect(text).not.toBe('still open');
    expect(text).toContain('event: complete');
  });

  it('refuses a second token with the same name', async () => {
    await token('twice', 'READER');
    const again = await gql(
      'mutation { createApiToken(input: { name: "twice", role: ADMIN }) { __typename ... on Error { code message } } }',
    );
    expect(again.data.createApiToken).toEqual({
      __typename: 'NameUnavailableError',
      code: 'NAME_UNAVAILABLE',
      message: 'A token named "twice" already exists',
    });
  });
});

describe('the audit log', () => {
  it('records every mutation, allowed or refused, with the token, target and outcome', async () => {
    const operator = await token('audited-operator', 'OPERATOR');
    const serviceId = await createService(gql, 'audited-svc');
    await gql(
      'mutation ($id: ID!) { stopService(input: { serviceId: $id }) { __typename } }',
      { id: serviceId },
      operator,
    );
    await gql(
      'mutation ($id: ID!) { stopService(input: { serviceId: $id }) { __typename } }',
      { id: serviceId },
      operator,
    );
    await gql(
      'mutation ($id: ID!) { deleteService(input: { serviceId: $id }) { __typename } }',
      { id: serviceId },
      operator,
    );
    const log = await gql(
      'query ($id: ID) { auditLog(serviceId: $id) { totalCount edges { node { tokenName operation targetId outcome at } } } }',
      { id: serviceId },
    );
    expect(log.data.auditLog.edges.map((e: any) => e.node).map(({ at, ...rest }: any) => rest)).toEqual(
      [
        { tokenName: 'audited-operator', operation: 'deleteService', targetId: null, outcome: 'FORBIDDEN' },
        { tokenName: 'audited-operator', operation: 'stopService', targetId: serviceId, outcome: 'INVALID_STATE' },
        { tokenName: 'audited-operator', operation: 'stopService', targetId: serviceId, outcome: 'SUCCEEDED' },
      ].map((e) => ({ ...e, targetId: serviceId })),
    );
    const refused = await gql('{ auditLog(operation: "deleteService") { edges { node { tokenName outcome } } } }');
    expect(refused.data.auditLog.edges.map((e: any) => e.node)).toContainEqual({
      tokenName: 'audited-operator',
      outcome: 'FORBIDDEN',
    });
  });
});

describe('ids that name nothing', () => {
  it('answers a malformed id with VALIDATION_FAILED on its path and a foreign one with NOT_FOUND, after auth, audited', async () => {
    const operator = await token('id-operator', 'OPERATOR');
    const reader = await token('id-reader', 'READER');
    const stop = (id: string, as?: string) =>
      gql(
        'mutation ($id: ID!) { stopService(input: { serviceId: $id }) { __typename ... on Error { code } ... on ValidationError { fields { path message } } ... on NotFoundError { id } } }',
        { id },
        as,
      );
    const foreign = Buffer.from('Backup:00000000-0000-4000-8000-000000000000').toString('base64');
    expect((await stop('%%%', operator)).data.stopService).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      fields: [{ path: ['input', 'serviceId'], message: 'is not a valid id' }],
    });
    expect((await stop(foreign, operator)).data.stopService).toEqual({
      __typename: 'NotFoundError',
      code: 'NOT_FOUND',
      id: foreign,
    });
    expect((await stop('%%%', reader)).data.stopService).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    const log = await gql('{ auditLog(operation: "stopService") { edges { node { tokenName targetId outcome } } } }');
    const entries = log.data.auditLog.edges.map((e: any) => e.node).filter((e: any) => e.tokenName.startsWith('id-'));
    expect(entries).toEqual([
      { tokenName: 'id-reader', targetId: '%%%', outcome: 'FORBIDDEN' },
      { tokenName: 'id-operator', targetId: foreign, outcome: 'NOT_FOUND' },
      { tokenName: 'id-operator', targetId: '%%%', outcome: 'VALIDATION_FAILED' },
    ]);
  });

  it('answers a lookup by a malformed or foreign id with null, and an audit filter by one with an error', async () => {
    const foreign = Buffer.from('Service:00000000-0000-4000-8000-000000000000').toString('base64');
    const looked = await gql(
      'query ($a: ID!, $b: ID!) { a: backup(id: $a) { id } b: backup(id: $b) { id } c: restorePlan(id: $a) { id } d: restorePlan(id: $b) { id } }',
      { a: '%%%', b: foreign },
    );
    expect(looked.errors).toBeUndefined();
    expect(looked.data).toEqual({ a: null, b: null, c: null, d: null });
    const filtered = await gql('{ auditLog(serviceId: "%%%") { totalCount } }');
    expect(filtered.data.auditLog).toBeNull();
    expect(filtered.errors!.map((e) => e.extensions!.code)).toEqual(['VALIDATION_FAILED']);
  });
});

describe('browser protections', () => {
  it('refuses a simple cross-site GET without a token or CSRF header with 403', async () => {
    const response = await fetch(`${file.server.url}?query=${encodeURIComponent('{ editions { edition } }')}`);
    expect(response.status).toBe(403);
  });

  it('turns GraphiQL and introspection off with GRAPHIQL=false', async () => {
    const db = await freshDatabase();
    const closed = await startServer({ ...db.env, GRAPHIQL: 'false' });
    try {
      const page = await fetch(closed.url, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toContain('<title>BizTalk Backup</title>');
      const intro = await closed.gql('{ __schema { queryType { name } } }');
      expect(intro.errors![0]!.message).toContain('introspection');
      expect((await closed.gql('{ editions { edition } }')).data.editions).toHaveLength(5);
    } finally {
      await closed.stop();
      await db.drop();
    }
  });
});
