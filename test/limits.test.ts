import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startServer, useTestServer } from './helpers/server.js';
import { freshDatabase } from './helpers/database.js';

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
      const admin: number[] = [];
      for (let i = 0; i < 12; i++) admin.push((await server.gql('{ __typename }', undefined, ADMIN_TOKEN)).status);
      expect(admin.slice(0, 10).every((s) => s === 200)).toBe(true);
      expect(admin.slice(10)).toContain(429);
    } finally {
      await server.stop();
      await db.drop();
    }
  });
});
