import { readFileSync } from 'node:fs';
import { isEnumType, isInputObjectType, isInterfaceType, isObjectType, isUnionType, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { readableLine } from '../src/log.js';
import { schema } from '../src/graphql/schema.js';
import { freshDatabase } from './helpers/database.js';
import { CREATE_SERVICE } from './helpers/operations.js';
import { ADMIN_TOKEN, startServer, useTestServer } from './helpers/server.js';

const file = useTestServer({ MAX_QUERY_DEPTH: '5', MAX_BODY_BYTES: '16384' });

describe('authentication', () => {
  it('refuses an operation without a token with UNAUTHENTICATED and status 401', async () => {
    const result = await file.server.gql('{ services { totalCount } }', {}, null);
    expect(result.status).toBe(401);
    expect(result.data).toBeUndefined();
    expect(result.errors).toEqual([
      {
        message:
          'Authentication required: send "Authorization: Bearer <token>" (or connection_init { authorization } on WebSocket)',
        extensions: { code: 'UNAUTHENTICATED' },
      },
    ]);
  });

  it('refuses an unknown token with UNAUTHENTICATED, saying the token was not accepted', async () => {
    const result = await file.server.gql(
      'mutation { createService(input: { name: "sneaky", edition: FREE, region: "westus" }) { __typename } }',
      {},
      'btb_not-a-real-token',
    );
    expect(result.status).toBe(401);
    expect(result.errors).toEqual([
      {
        message:
          'The token was not accepted: it is wrong, or it was revoked. Ask an ADMIN for a valid one (createApiToken)',
        extensions: { code: 'UNAUTHENTICATED' },
      },
    ]);
    expect((await file.server.gql('{ service(name: "sneaky") { id } }')).data.service).toBeNull();
  });

  it('lets anyone read the schema (introspection) so GraphiQL can show its documentation', async () => {
    const result = await file.server.gql('{ __schema { queryType { name } } }', {}, null);
    expect(result).toEqual({ status: 200, data: { __schema: { queryType: { name: 'Query' } } } });
  });
});

describe('abuse limits', () => {
  it('refuses a query deeper than MAX_QUERY_DEPTH with QUERY_TOO_COMPLEX', async () => {
    const result = await file.server.gql('{ services { edges { node { settings { acsIssuerKey { isSet } } } } } }');
    expect(result.status).toBe(400);
    expect(result.errors).toEqual([
      { message: 'Query depth limit of 5 exceeded, found 6.', extensions: { code: 'QUERY_TOO_COMPLEX' } },
    ]);
  });

  it('refuses more aliases than allowed', async () => {
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: regions { name }`).join(' ');
    const result = await file.server.gql(`{ ${aliases} }`);
    expect(result.errors).toEqual([
      { message: 'Aliases limit of 30 exceeded, found 31.', extensions: { code: 'QUERY_TOO_COMPLEX' } },
    ]);
  });

  it('refuses a request body larger than MAX_BODY_BYTES with 413', async () => {
    const result = await file.server.gql(CREATE_SERVICE, {
      input: { name: 'x'.repeat(17000), edition: 'BASIC', region: 'westus' },
    });
    expect(result.status).toBe(413);
    expect(result.errors![0]!.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX' });
    expect(result.errors![0]!.message).toMatch(
      /^The request body of \d+ bytes is larger than the limit of 16384 bytes \(MAX_BODY_BYTES\)$/,
    );
  });

  it('refuses a request body sent in chunks without a Content-Length with 411, whatever its size', async () => {
    const { request } = await import('node:http');
    const url = new URL(file.server.url);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.write('{"query":"{ __typename }"');
      req.end('}');
    });
    expect(answer.status).toBe(411);
    expect(JSON.parse(answer.body)).toEqual({
      errors: [
        { message: 'Send a Content-Length header with the request body', extensions: { code: 'QUERY_TOO_COMPLEX' } },
      ],
    });
  });

  it('refuses a document with too many tokens', async () => {
    const result = await file.server.gql(`{ ${'a '.repeat(5100)}}`);
    expect(result.errors![0]!.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX' });
    expect(result.errors![0]!.message).toMatch(/^Token limit of 5000 exceeded/);
  });

  it('answers a malformed body with 400 and no stack trace', async () => {
    const response = await fetch(file.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: '{"query": "{ services { totalCount }',
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toMatch(/at .*\.(js|ts):\d+/);
    expect(JSON.parse(text).errors[0].message).toBe('POST body sent invalid JSON.');
  });
});

describe('health', () => {
  it('answers /healthz and /readyz', async () => {
    const base = file.server.url.replace('/graphql', '');
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    const ready = await fetch(`${base}/readyz`);
    expect([ready.status, await ready.text()]).toEqual([200, 'ready\n']);
  });

  it('exposes Prometheus metrics at /metrics', async () => {
    await file.server.gql('query CountServices { services { totalCount } }');
    const text = await (await fetch(file.server.url.replace('/graphql', '/metrics'))).text();
    expect(text).toMatch(
      /^biztalk_backup_graphql_operations_total\{operation="CountServices",type="query",outcome="ok"\} 1$/m,
    );
    expect(text).toMatch(
      /^biztalk_backup_graphql_operation_duration_seconds_count\{operation="CountServices",type="query"\} 1$/m,
    );
    expect(text).toMatch(/^biztalk_backup_database_up 1$/m);
    expect(text).toMatch(/^biztalk_backup_job_queue_depth 0$/m);
    expect(text).toMatch(/^biztalk_backup_active_subscriptions 0$/m);
  });

  it('serves GraphiQL to a browser', async () => {
    const response = await fetch(file.server.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>BizTalk Backup</title>');
  });
});

describe('the operator console', () => {
  it('is served at / with its bundle from the server itself (no other origin), GraphiQL staying at /graphql', async () => {
    const base = file.server.url.replace('/graphql', '');
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'; connect-src 'self'");
    const html = await page.text();
    expect(html).toContain('<title>BizTalk Backup console</title>');
    expect([...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])).toEqual([
      '/console/console.css',
      '/graphql',
      '/console/console.js',
    ]);
    const script = await fetch(`${base}/console/console.js`);
    expect([script.status, script.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect(await script.text()).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z]/);
    const css = await fetch(`${base}/console/console.css`);
    expect([css.status, css.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
    expect((await fetch(`${base}/console/../src/main.ts`)).status).toBe(404);
    expect((await fetch(`${base}/console/other.js`)).status).toBe(404);
  });
});

describe('node(id:)', () => {
  it('answers an id that is not a global id with VALIDATION_FAILED and a message saying so', async () => {
    const r = await file.server.gql('query Lookup { node(id: "abc") { id } }');
    expect(r.data).toEqual({ node: null });
    expect(r.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
      ['VALIDATION_FAILED', 'id: is not a valid id'],
    ]);
  });
});

describe('logs', () => {
  it('shows a request on a terminal as one readable line: what ran, who, how long, its id last', () => {
    const line = JSON.stringify({
      level: 30,
      time: Date.UTC(2026, 11, 1, 9, 5, 7, 42),
      pid: 1,
      hostname: 'h',
      service: 'biztalk-backup',
      requestId: 'r-1',
      type: 'mutation',
      operation: 'CreateBackup',
      token: 'ops',
      ms: 12,
      errors: 0,
      msg: 'request',
    });
    expect(readableLine(line)).toBe(
      '09:05:07.042 INFO  mutation CreateBackup token=ops ms=12 errors=0 requestId=r-1\n',
    );
    expect(
      readableLine(JSON.stringify({ level: 50, time: 0, msg: 'unexpected error', message: 'a b', stack: '  at x' })),
    ).toBe('00:00:00.000 ERROR unexpected error message="a b"\n  at x\n');
  });
});

describe('persistence', () => {
  it('finds its data again after a restart on the same database', async () => {
    const db = await freshDatabase();
    const first = await startServer(db.env);
    await first.gql(CREATE_SERVICE, {
      input: { name: 'survivor', edition: 'PREMIUM', region: 'eastus', scaleUnitCount: 3 },
    });
    await first.stop();
    const second = await startServer(db.env);
    const { data } = await second.gql('{ service(name: "survivor") { name edition scaleUnitCount region state } }');
    await second.stop();
    await db.drop();
    expect(data.service).toEqual({
      name: 'survivor',
      edition: 'PREMIUM',
      scaleUnitCount: 3,
      region: 'eastus',
      state: 'ACTIVE',
    });
  });
});

describe('configuration', () => {
  it('refuses PostgreSQL without ENCRYPTION_KEY with a message that says what to do', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://localhost/x' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://localhost/x' })).toThrow(
      /ENCRYPTION_KEY is required with DATABASE_URL/,
    );
  });

  it('refuses an encryption key that is not 32 bytes, and bad numbers', () => {
    expect(() => loadConfig({ ENCRYPTION_KEY: 'c2hvcnQ=' })).toThrow(
      'ENCRYPTION_KEY must be 32 bytes encoded in base64 (try: openssl rand -base64 32), got 5 bytes',
    );
    expect(() => loadConfig({ ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'), PORT: 'eighty' })).toThrow(
      'PORT must be a whole number from 0 to 65535, got "eighty"',
    );
    expect(() => loadConfig({ ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'), LOG_LEVEL: 'loud' })).toThrow(
      /LOG_LEVEL must be one of/,
    );
  });
});

describe('the schema', () => {
  it('is committed as schema.graphql exactly as the code builds it (run npm run schema)', () => {
    expect(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8')).toBe(`${printSchema(schema)}\n`);
  });

  it('describes every type, field, argument and enum value', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : [])
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isEnumType(type))
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      if (isUnionType(type) && !type.description) missing.push(type.name);
    }
    expect(missing).toEqual([]);
  });
});
