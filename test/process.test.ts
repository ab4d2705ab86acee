import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './helpers/database.js';
import { spawnServer } from './helpers/process.js';
import { ADMIN_TOKEN, ENCRYPTION_KEY } from './helpers/server.js';
import { until } from './helpers/wait.js';

const embedded = !process.env.TEST_DATABASE_URL;

async function start(env: Record<string, string>, args: string[] = []) {
  const started = Date.now();
  const running = await spawnServer({ LOG_LEVEL: 'info', ADMIN_TOKEN: '', ENCRYPTION_KEY: '', ...env }, [], args);
  return { ...running, readyMs: Date.now() - started };
}

async function query(url: string, token: string, body: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: body }),
  });
  return response.json();
}

let database: TestDatabase;
beforeAll(async () => {
  database = await freshDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('the server process', () => {
  it.skipIf(!embedded)(
    'prints a generated admin token once on the embedded default and keeps it across restarts',
    async () => {
      const first = await start(database.env);
      const token = /^\s+(btb_[A-Za-z0-9_-]+)$/m.exec(first.output())?.[1];
      expect(token).toMatch(/^btb_[A-Za-z0-9_-]{43}$/);
      // The banner as README shows it (after its first line, a log line with the time of day).
      const readme = readFileSync('README.md', 'utf8');
      const shown = /prints an \*\*admin token once\*\*[^`]*```\n[^\n]*\n([\s\S]*?)```/.exec(readme)![1]!;
      const port = new URL(first.url).port;
      expect(first.output()).toContain(shown.replace('btb_…', token!).replaceAll('4000', port));
      expect(first.output()).toMatch(/^\{"level":30,.*"port":\d+,"database":"pglite",.*"msg":"ready"\}$/m); // not a terminal: JSON lines
      const created = await query(
        first.url,
        token!,
        'mutation { createService(input: { name: "from-process", edition: BASIC, region: "westus" }) { __typename } }',
      );
      expect(created).toEqual({ data: { createService: { __typename: 'CreateServiceSuccess' } } });
      expect(await first.stop()).toBe(0);
      expect(first.output()).toContain('"msg":"stopped"');
      expect(first.output().split(token!).length - 1).toBe(1); // printed once, never logged

      const second = await start(database.env);
      expect(second.output()).not.toMatch(/btb_/);
      expect(await query(second.url, token!, '{ service(name: "from-process") { state } }')).toEqual({
        data: { service: { state: 'ACTIVE' } },
      });
      expect(await second.stop('SIGINT')).toBe(0);
      console.log(`embedded start-up to ready: first ${first.readyMs} ms, second ${second.readyMs} ms`);
    },
  );

  it.skipIf(!embedded)(
    'npm run demo keeps one admin token for the demo: the generated one at first, then a new one that revokes the last',
    async () => {
      const own = await freshDatabase();
      const tokensIn = (output: string) => [...output.matchAll(/^\s+(btb_[A-Za-z0-9_-]{43})$/gm)].map((m) => m[1]!);
      const viewer = async (url: string, token: string) =>
        (await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: 'query Who { viewer { role } }' }),
        }).then((r) => r.json())) as {
          data?: { viewer: { role: string } };
          errors?: { extensions: { code: string } }[];
        };
      try {
        const first = await start(own.env, ['--demo']);
        await until(
          async () => first.output(),
          (output) => output.includes('Stop it with Ctrl+C.'),
        );
        const [generated, ...more] = tokensIn(first.output());
        expect(more).toEqual([]);
        expect(first.output()).toContain('The demo environment is ready: sign in with the admin token above.');
        expect(first.output()).toMatch(/^ {2}console {3}http:\/\/localhost:\d+\/$/m);
        // Output that is not a terminal gets JSON lines: one per request, each naming what ran.
        const requests = first
          .output()
          .split('\n')
          .filter((line) => line.includes('"msg":"request"'))
          .map((line) => JSON.parse(line));
        expect(requests.length).toBeGreaterThan(50);
        expect(requests.filter((r) => !/^Demo[A-Z]\w+$/.test(r.operation))).toEqual([]);
        expect(await first.stop()).toBe(0);

        const second = await start(own.env, ['--demo']);
        await until(
          async () => second.output(),
          (output) => output.includes('Stop it with Ctrl+C.'),
        );
        const [demo, ...others] = tokensIn(second.output());
        expect(others).toEqual([]);
        expect(second.output()).toContain('Its admin token (shown once; the previous demo token is revoked)');
        expect((await viewer(second.url, demo!)).data).toEqual({ viewer: { role: 'ADMIN' } });
        expect(await second.stop()).toBe(0);

        const third = await start(own.env, ['--demo']);
        await until(
          async () => third.output(),
          (output) => output.includes('Stop it with Ctrl+C.'),
        );
        const [next] = tokensIn(third.output());
        expect(next).not.toBe(demo);
        expect((await viewer(third.url, demo!)).errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
        expect((await viewer(third.url, next!)).data).toEqual({ viewer: { role: 'ADMIN' } });
        expect((await viewer(third.url, generated!)).data).toEqual({ viewer: { role: 'ADMIN' } });
        expect(await third.stop()).toBe(0);
      } finally {
        await own.drop();
      }
    },
    120_000,
  );

  it.skipIf(!embedded)(
    'starts on a new, empty data directory: creates and migrates the embedded database, then serves',
    async () => {
      const { mkdtempSync, rmSync, readdirSync } = await import('node:fs');
      const { join } = await import('node:path');
      const dataDir = mkdtempSync(join(database.env.DATA_DIR!, '..', 'empty-'));
      try {
        const running = await start({ DATA_DIR: dataDir, ADMIN_TOKEN, ENCRYPTION_KEY });
        expect(readdirSync(join(dataDir, 'pgdata'))).toContain('PG_VERSION');
        expect(
          await query(
            running.url,
            ADMIN_TOKEN,
            'mutation { createService(input: { name: "on-new-dir", edition: BASIC, region: "westus" }) { __typename } }',
          ),
        ).toEqual({ data: { createService: { __typename: 'CreateServiceSuccess' } } });
        expect(await query(running.url, ADMIN_TOKEN, '{ services { totalCount } }')).toEqual({
          data: { services: { totalCount: 1 } },
        });
        expect(await running.stop()).toBe(0);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );

  it('shuts down cleanly on SIGTERM, closing open WebSocket subscriptions', async () => {
    const running = await start({ ...database.env, ADMIN_TOKEN, ENCRYPTION_KEY });
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(running.url.replace('http', 'ws'), 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    await new Promise((resolve) => socket.once('message', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    expect(await running.stop()).toBe(0);
    expect(await closed).toBe(1001);
  });

  it.skipIf(embedded)('refuses to start on PostgreSQL when no admin could ever log in', async () => {
    const error = await start({ ...database.env, ENCRYPTION_KEY }).catch((e: Error) => e.message);
    expect(error).toContain('exited with 1');
    expect(error).toContain('No admin can log in: set ADMIN_TOKEN');
  });

  it('refuses to start with a clear message when the configuration is wrong', async () => {
    const error = await start({ ...database.env, ENCRYPTION_KEY: 'too-short' }).catch((e: Error) => e.message);
    expect(error).toContain('Configuration error: ENCRYPTION_KEY must be 32 bytes encoded in base64');
  });
});
