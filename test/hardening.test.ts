import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../src/log.js';
import { buildService, type BuiltService } from './helpers/artifacts.js';
import { ADMIN_TOKEN, useTestServer } from './helpers/server.js';

const file = useTestServer();
const gql = (q: string, v?: Record<string, unknown>, token?: string | null) => file.server.gql(q, v, token);
const NUL = '\u0000';

async function token(name: string, role: string): Promise<string> {
  const r = await gql(
    'mutation ($n: String!, $r: Role!) { createApiToken(input: { name: $n, role: $r }) { ... on CreateApiTokenSuccess { secret } } }',
    { n: name, r: role },
  );
  return r.data.createApiToken.secret;
}

/** The newest audit entry of a mutation. */
async function lastAudit(operation: string) {
  const r = await gql(
    'query ($o: String!) { auditLog(operation: $o, first: 1) { edges { node { tokenName operation targetId outcome } } } }',
    { o: operation },
  );
  return r.data.auditLog.edges[0]?.node;
}

/** Runs a mutation by name with one input; its result payload, or the top-level errors. */
async function attempt(name: string, input: Record<string, unknown>, secret?: string | null) {
  const Type = name.charAt(0).toUpperCase() + name.slice(1);
  const r = await gql(
    `mutation ($input: ${Type}Input!) { ${name}(input: $input) { __typename ... on Error { code } ... on ValidationError { fields { path message } } } }`,
    { input },
    secret,
  );
  return r.errors ? { status: r.status, errors: r.errors.map((e) => e.extensions?.code) } : r.data[name];
}

let built: BuiltService;
let reader: string;
let backupId: string;
beforeAll(async () => {
  built = await buildService(gql, 'hardening');
  reader = await token('hardening-reader', 'READER');
  const backup = await gql(
    'mutation ($s: ID!) { createBackup(input: { serviceId: $s }) { ... on CreateBackupSuccess { backup { id } } } }',
    { s: built.serviceId },
  );
  backupId = backup.data.createBackup.backup.id;
});

describe('every refusal is audited (issue 16, defect 2)', () => {
  it.each([
    ['deleteService', () => ({ serviceId: `${built.serviceId}${NUL}` }), () => `${built.serviceId}\uFFFD`],
    ['updateServiceSettings', () => ({ serviceId: `${built.serviceId}${NUL}` }), () => `${built.serviceId}\uFFFD`],
    ['pinBackup', () => ({ backupId: `${backupId}${NUL}`, pinned: true }), () => `${backupId}\uFFFD`],
  ])("records a READER's %s whose id ends in a NUL as FORBIDDEN, the NUL replaced", async (name, input, target) => {
    expect(await attempt(name, input(), reader)).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    expect(await lastAudit(name)).toEqual({
      tokenName: 'hardening-reader',
      operation: name,
      targetId: target(),
      outcome: 'FORBIDDEN',
    });
  });

  it('records a mutation sent without a token as UNAUTHENTICATED, by "anonymous"', async () => {
    expect(await attempt('stopService', { serviceId: built.serviceId }, null)).toEqual({
      status: 401,
      errors: ['UNAUTHENTICATED'],
    });
    expect(await lastAudit('stopService')).toEqual({
      tokenName: 'anonymous',
      operation: 'stopService',
      targetId: built.serviceId,
      outcome: 'UNAUTHENTICATED',
    });
  });

  it('records a refused mutation with its target id cut to 200 characters', async () => {
    const long = 'A'.repeat(100_000);
    expect(await attempt('revokeApiToken', { tokenId: long }, reader)).toEqual({
      __typename: 'ForbiddenError',
      code: 'FORBIDDEN',
    });
    expect(await lastAudit('revokeApiToken')).toEqual({
      tokenName: 'hardening-reader',
      operation: 'revokeApiToken',
      targetId: `${'A'.repeat(200)}…`,
      outcome: 'FORBIDDEN',
    });
  });

  it("records an ADMIN's mutation refused for its input as VALIDATION_FAILED", async () => {
    expect(await attempt('deleteService', { serviceId: `${built.serviceId}${NUL}` })).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      fields: [{ path: ['input', 'serviceId'], message: 'contains a NUL character (\\u0000)' }],
    });
    expect(await lastAudit('deleteService')).toEqual({
      tokenName: 'ADMIN_TOKEN',
      operation: 'deleteService',
      targetId: `${built.serviceId}\uFFFD`,
      outcome: 'VALIDATION_FAILED',
    });
  });
});

describe('the log never holds query parameters (issue 16, defect 3)', () => {
  it.each([
    ['a value the database cannot read', sql`select ${'SECRET-VALUE-1234'}::int`],
    ['a NUL byte', sql`select ${`SECRET-VALUE-1234${NUL}`}::text`],
  ])('describes a database error over %s without the parameter', async (_what, query) => {
    const error = await file.server.app.runtime.database.db.execute(query).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const described = describeError(error);
    expect(JSON.stringify(described)).not.toContain('SECRET-VALUE');
    expect(described.stack?.split('\n').every((line) => /^\s+at /.test(line))).toBe(true);
    expect(described.pgCode).toMatch(/^22/);
  });
});

describe('bad input is a VALIDATION_FAILED with its path (issue 16, defect 4)', () => {
  const problem = (path: string[], message: string) => ({
    __typename: 'ValidationError',
    code: 'VALIDATION_FAILED',
    fields: [{ path, message }],
  });
  const nul = 'contains a NUL character (\\u0000)';

  it.each([
    [
      'createTemplate',
      () => ({ serviceId: built.serviceId, name: 'nul-template', content: `{}${NUL}` }),
      ['input', 'content'],
    ],
    [
      'createPipeline',
      () => ({ serviceId: built.serviceId, name: 'nul-pipeline', definition: `{}${NUL}` }),
      ['input', 'definition'],
    ],
    [
      'createTransform',
      () => ({ serviceId: built.serviceId, name: 'nul-transform', mapContent: `<x/>${NUL}` }),
      ['input', 'mapContent'],
    ],
    [
      'updateAgreement',
      () => ({ agreementId: built.agreements.x12, sourceFtpFolder: `ftp://x/${NUL}` }),
      ['input', 'sourceFtpFolder'],
    ],
    ['updateProfile', () => ({ profileId: `${built.profiles.host}${NUL}`, name: 'x' }), ['input', 'profileId']],
  ])('refuses a NUL in %s', async (name, input, path) => {
    expect(await attempt(name, input())).toEqual(problem(path, nul));
  });

  it('refuses a NUL in service(name:) and node(id:) with VALIDATION_FAILED', async () => {
    const r = await gql('query ($n: String!, $id: ID!) { service(name: $n) { id } node(id: $id) { id } }', {
      n: `hardening${NUL}`,
      id: `${built.serviceId}${NUL}`,
    });
    expect(r.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
      ['VALIDATION_FAILED', `name: ${nul}`],
      ['VALIDATION_FAILED', `id: ${nul}`],
    ]);
  });

  it("refuses a lone surrogate in a bridge's config", async () => {
    const input = {
      serviceId: built.serviceId,
      name: 'surrogate',
      kind: 'XML_ONE_WAY',
      relativeAddress: 'surrogate',
      config: { note: 'a\uD800b' },
    };
    expect(await attempt('createBridge', input)).toEqual(
      problem(['input', 'config', 'note'], 'contains an unpaired UTF-16 surrogate'),
    );
  });

  it('refuses a config nested 5,000 levels deep', async () => {
    // Written out by hand: JSON.stringify itself runs out of stack on it.
    const config = `${'{"next":'.repeat(5000)}"bottom"${'}'.repeat(5000)}`;
    const input = `{"serviceId":${JSON.stringify(built.serviceId)},"name":"deep","kind":"XML_ONE_WAY","relativeAddress":"deep","config":${config}}`;
    const query =
      'mutation ($input: CreateBridgeInput!) { createBridge(input: $input) { __typename ... on Error { code } ... on ValidationError { fields { path message } } } }';
    const response = await fetch(file.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: `{"query":${JSON.stringify(query)},"variables":{"input":${input}}}`,
    });
    const path = ['input', 'config', ...Array<string>(31).fill('next')];
    expect(await response.json()).toEqual({ data: { createBridge: problem(path, 'nests deeper than 32 levels') } });
  });

  it('refuses services(states:) with 70,000 entries', async () => {
    const r = await gql('query ($s: [ServiceState!]) { services(states: $s) { totalCount } }', {
      s: Array(70_000).fill('ACTIVE'),
    });
    expect(r.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
      ['VALIDATION_FAILED', 'states: has 70000 entries; at most 1000 are allowed'],
    ]);
  });

  it.each(['name', 'qualifier', 'identifier'])(
    'refuses updateProfile setting %s to null with VALIDATION_FAILED on that field, the profile unchanged',
    async (field) => {
      const r = await gql(
        'mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { __typename ... on ValidationError { code fields { path message } } } }',
        { input: { profileId: built.profiles.guest, [field]: null } },
      );
      expect(r.data.updateProfile).toEqual({
        __typename: 'ValidationError',
        code: 'VALIDATION_FAILED',
        fields: [{ path: ['input', field], message: 'may not be null; leave it out to keep it' }],
      });
      const profile = await gql('query ($id: ID!) { node(id: $id) { ... on Profile { name qualifier identifier } } }', {
        id: built.profiles.guest,
      });
      expect(profile.data.node).toEqual({ name: 'Fabrikam EDI', qualifier: 'ZZ', identifier: 'FABRIKAM' });
    },
  );
});

describe('node(id:) applies the scope of each type (issue 16, defect 5)', () => {
  it("does not show a READER an ApiToken's name and role", async () => {
    await token('node-secret-token', 'OPERATOR');
    const tokenId = (await gql('{ apiTokens(first: 1) { edges { node { id } } } }')).data.apiTokens.edges[0].node.id;
    const r = await gql(
      'query ($id: ID!) { node(id: $id) { id ... on ApiToken { name role } } }',
      { id: tokenId },
      reader,
    );
    expect(r.data).toEqual({ node: null });
    expect(r.errors?.map((e) => e.extensions?.code)).toContain('FORBIDDEN');
    expect(JSON.stringify(r)).not.toContain('node-secret-token');
  });

  it('shows an ADMIN the same ApiToken through node(id:)', async () => {
    const tokenId = (await gql('{ apiTokens(first: 1) { edges { node { id } } } }')).data.apiTokens.edges[0].node.id;
    const r = await gql('query ($id: ID!) { node(id: $id) { ... on ApiToken { name role } } }', { id: tokenId });
    expect(r).toEqual({ status: 200, data: { node: { name: 'node-secret-token', role: 'OPERATOR' } } });
  });
});
