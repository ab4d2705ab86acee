import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkScheduleInterval } from '../src/backup/rules.js';
import { loadConfig } from '../src/config.js';
import { createService } from './helpers/artifacts.js';
import { freshDatabase } from './helpers/database.js';
import { ADMIN_TOKEN, ENCRYPTION_KEY, startServer, type TestServer, useTestServer } from './helpers/server.js';

// Issue 16, defects 1 and 6: what a client, with a token or without, can make the server keep or do.
const file = useTestServer();

/** POSTs `body` without waiting for the server to read it all: a refusal may close the connection mid-upload. */
async function post(url: string, body: string, token: string | null): Promise<number> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0; // the server closed the connection while the body was still being sent
  }
}

describe('memory a request can make the server keep', () => {
  it('keeps nothing of a flood of large unique documents sent without a token, and still answers', async () => {
    const { server } = file;
    const flood = async (count: number) => {
      const statuses = new Map<number, number>();
      for (let i = 0; i < count; i += 4) {
        const sent = await Promise.all(
          Array.from({ length: 4 }, (_, j) => {
            const size = (2 + ((i + j) % 6)) * 1024 * 1024;
            const comment = `${randomBytes(16).toString('hex')} ${'x'.repeat(size)}`;
            return post(server.url, JSON.stringify({ query: `{ __typename } # ${comment}` }), null);
          }),
        );
        for (const status of sent) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      return statuses;
    };
    await flood(4);
    server.logs.length = 0;
    server.queries.length = 0;
    global.gc?.();
    const baseline = process.memoryUsage().heapUsed;
    const statuses = await flood(60);
    server.logs.length = 0;
    server.queries.length = 0;
    global.gc?.();
    const grown = process.memoryUsage().heapUsed - baseline;
    console.log(
      `unauthenticated flood: statuses ${JSON.stringify(Object.fromEntries(statuses))}, heap growth ${(grown / 1048576).toFixed(1)} MiB`,
    );
    expect(grown).toBeLessThan(8 * 1024 * 1024);
    expect((await server.gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  }, 120_000);

  it('refuses a body over 64 KiB without a valid token, before reading it', async () => {
    const body = JSON.stringify({ query: `{ __typename } # ${'x'.repeat(70 * 1024)}` });
    const response = await fetch(file.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token' },
      body,
    });
    expect(response.status).toBe(413);
    expect((await response.json()).errors[0].message).toMatch(/MAX_ANONYMOUS_BODY_BYTES/);
  });

  it('refuses an operation text over MAX_QUERY_BYTES even with a token, and takes large data in variables', async () => {
    const long = await file.server.gql(`{ __typename } # ${'x'.repeat(200_000)}`);
    expect(long.status).toBe(413);
    expect(long.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(long.errors?.[0]?.message).toMatch(/MAX_QUERY_BYTES/);
    const variables = await file.server.gql('query ($name: String!) { service(name: $name) { id } }', {
      name: 'x'.repeat(200_000),
    });
    expect(variables.status).toBe(200);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After past the rate without a token, counting bad tokens with none, per address', async () => {
    const db = await freshDatabase();
    const server = await startServer({
      ...db.env,
      RATE_LIMIT_ANONYMOUS_PER_SECOND: '1',
      RATE_LIMIT_BURST_SECONDS: '5',
      RATE_LIMIT_TOKEN_PER_SECOND: '2',
    });
    try {
      const statuses: number[] = [];
      const ask = (token: string | null) =>
        server.gql('{ services { totalCount } }', undefined, token).then((r) => r.status);
      for (let i = 0; i < 3; i++) statuses.push(await ask(null));
      for (let i = 0; i < 3; i++) statuses.push(await ask('a-bad-token-0123456789'));
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      const refused = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await refused.json()).errors[0].extensions.code).toBe('RATE_LIMITED');
      // A valid token has its own bucket (2 a second, 10 at once).
      // Sent at once, so that a slow machine cannot let the bucket refill between them.
      const admin = await Promise.all(
        Array.from({ length: 16 }, () => server.gql('{ __typename }', undefined, ADMIN_TOKEN).then((r) => r.status)),
      );
      // The burst of 10, plus what 2 a second refill while they are answered.
      const answered = admin.filter((s) => s === 200).length;
      expect(answered).toBeGreaterThanOrEqual(10);
      expect(answered).toBeLessThanOrEqual(13);
      expect(admin.filter((s) => s === 429).length).toBe(16 - answered);
    } finally {
      await server.stop();
      await db.drop();
    }
  });
});

/** A server of its own for one test, with the given settings. */
async function withServer(env: Record<string, string>, test: (server: TestServer) => Promise<void>): Promise<void> {
  const db = await freshDatabase();
  const server = await startServer({ ...db.env, ...env });
  try {
    await test(server);
  } finally {
    await server.stop();
    await db.drop();
  }
}

describe('backup schedules', () => {
  const SET = `mutation ($input: SetBackupScheduleInput!) { setBackupSchedule(input: $input) {
    __typename ... on SetBackupScheduleSuccess { schedule { cron } } ... on Error { code message }
  } }`;

  it("refuses a schedule that runs more often than the edition's minimum interval", async () => {
    const gql = file.server.gql.bind(file.server);
    const serviceId = await createService(gql, 'every-second', 'STANDARD');
    const everySecond = await gql(SET, { input: { serviceId, cron: '* * * * * *' } });
    expect(everySecond.data.setBackupSchedule).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      message: 'input.cron: runs more often than the STANDARD edition allows: at least 900 seconds between backups',
    });
    expect((await gql(SET, { input: { serviceId, cron: '*/5 * * * *' } })).data.setBackupSchedule.code).toBe(
      'VALIDATION_FAILED',
    );
    expect((await gql(SET, { input: { serviceId, cron: '*/15 * * * *' } })).data.setBackupSchedule.schedule).toEqual({
      cron: '*/15 * * * *',
    });
  });

  it('finds an uneven schedule whose closest runs are too close', () => {
    expect(() => checkScheduleInterval('0,30 * * * *', 'DEVELOPER')).toThrow(/at least 3600 seconds/);
    expect(() => checkScheduleInterval('0 0,1 * * *', 'DEVELOPER')).not.toThrow();
    expect(() => checkScheduleInterval('0,30 * * * *', 'PREMIUM')).not.toThrow();
    expect(() => checkScheduleInterval('* * * * * *', 'PREMIUM', 1)).not.toThrow();
  });
});

describe('subscriptions', () => {
  const SUBSCRIBE = 'subscription { serviceStateChanged { service { name } } }';
  /** Starts a subscription; resolves with its error, or 'open' when the server has not refused it within 1 s. */
  const attempt = (client: ReturnType<TestServer['ws']>) =>
    new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('open'), 1000);
      client.subscribe(
        { query: SUBSCRIBE },
        {
          next: () => {},
          error: (error) => {
            clearTimeout(timer);
            resolve(JSON.stringify(error));
          },
          complete: () => {},
        },
      );
    });

  it('caps subscriptions per WebSocket and per token', async () => {
    await withServer({ MAX_SUBSCRIPTIONS_PER_CONNECTION: '3', MAX_SUBSCRIPTIONS_PER_TOKEN: '5' }, async (server) => {
      const first = server.ws();
      const results = await Promise.all([attempt(first), attempt(first), attempt(first), attempt(first)]);
      expect(results.filter((r) => r === 'open')).toHaveLength(3);
      expect(results.find((r) => r !== 'open')).toMatch(
        /MAX_SUBSCRIPTIONS_PER_CONNECTION.*LIMIT_EXCEEDED|LIMIT_EXCEEDED.*MAX_SUBSCRIPTIONS_PER_CONNECTION/,
      );
      const second = server.ws();
      const more = await Promise.all([attempt(second), attempt(second), attempt(second)]);
      expect(more.filter((r) => r === 'open')).toHaveLength(2);
      expect(more.find((r) => r !== 'open')).toMatch(/MAX_SUBSCRIPTIONS_PER_TOKEN/);
      // Closing a connection gives its subscriptions back to the token.
      await first.dispose();
      await new Promise((r) => setTimeout(r, 200));
      expect(await attempt(server.ws())).toBe('open');
    });
  });
});

describe('connections', () => {
  it('answers 408 and closes a connection whose body stalls', async () => {
    await withServer({ HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '1000' }, async (server) => {
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      socket.on('data', (chunk) => (received += chunk));
      const started = Date.now();
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write(
        `POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nauthorization: Bearer ${ADMIN_TOKEN}\r\ncontent-length: 100\r\n\r\n{"query":`,
      );
      await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
      expect(received).toMatch(/^HTTP\/1\.1 408/);
      expect(Date.now() - started).toBeLessThan(5000);
      socket.destroy();
    });
  });
});

describe('metrics', () => {
  it('labels operations without a token as unauthenticated, never by the name they send', async () => {
    for (let i = 0; i < 5; i++) await file.server.gql(`query Flood${i}x { services { totalCount } }`, undefined, null);
    await file.server.gql('query KnownName { services { totalCount } }');
    const text = await (await fetch(file.server.url.replace('/graphql', '/metrics'))).text();
    expect(text).not.toMatch(/operation="Flood/);
    expect(text).toMatch(
      /^biztalk_backup_graphql_operations_total\{operation="unauthenticated",type="query",outcome="error"\} 5$/m,
    );
    expect(text).toMatch(/operation="KnownName"/);
  });

  it('serves /metrics only with METRICS_TOKEN when one is set', async () => {
    const METRICS_TOKEN = 'metrics-token-0123456789';
    await withServer({ METRICS_TOKEN }, async (server) => {
      const url = server.url.replace('/graphql', '/metrics');
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(401);
      const allowed = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toMatch(/^biztalk_backup_database_up 1$/m);
    });
  });

  it('turns /metrics off by default in production, and on with METRICS=true', () => {
    const base = { ENCRYPTION_KEY, DATABASE_URL: 'postgres://localhost/x' };
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).metrics).toEqual({ enabled: false, token: undefined });
    expect(loadConfig({ ...base, NODE_ENV: 'production', METRICS: 'true' }).metrics.enabled).toBe(true);
    expect(loadConfig({ ...base }).metrics.enabled).toBe(true);
    expect(() => loadConfig({ ...base, METRICS: 'yes' })).toThrow(/METRICS must be true or false/);
  });
});

describe('CORS', () => {
  it('gives no other origin credentials by default', async () => {
    const response = await fetch(file.server.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('allows the origins of CORS_ORIGINS, and only those', async () => {
    await withServer({ CORS_ORIGINS: 'https://ops.example.com,https://admin.example.com' }, async (server) => {
      const preflight = (origin: string) =>
        fetch(server.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      const allowed = await preflight('https://ops.example.com');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
      expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).not.toBe(
        'https://evil.example',
      );
    });
    expect(() => loadConfig({ ENCRYPTION_KEY, DATABASE_URL: 'postgres://localhost/x', CORS_ORIGINS: '*' })).toThrow(
      /CORS_ORIGINS/,
    );
  });
});
