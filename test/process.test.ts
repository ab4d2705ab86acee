import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from './helpers/database.js';
import { ADMIN_TOKEN, ENCRYPTION_KEY } from './helpers/server.js';

const embedded = !process.env.TEST_DATABASE_URL;

interface Running {
  child: ChildProcess;
  output: () => string;
  port: number;
  readyMs: number;
}

/** `npm start` as an operator runs it: a separate process, configured by environment only. */
async function start(env: Record<string, string>): Promise<Running> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /"port":(\d+).*"msg":"ready"/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(Number(match[1]));
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`exited with ${code}: ${output}`));
    });
  });
  return { child, output: () => output, port, readyMs: Date.now() - started };
}

function stop(running: Running, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  return new Promise((resolve) => {
    running.child.once('exit', (code) => resolve(code));
    running.child.kill(signal);
  });
}

async function query(port: number, token: string, body: string) {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
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
  it.skipIf(!embedded)('prints a generated admin token once on the embedded default and keeps it across restarts', async () => {
    const first = await start(database.env);
    const token = /^\s+(btb_[A-Za-z0-9_-]+)$/m.exec(first.output())?.[1];
    expect(token).toMatch(/^btb_[A-Za-z0-9_-]{43}$/);
    const created = await query(first.port, token!, 'mutation { createService(input: { name: "from-process", edition: BASIC, region: "westus" }) { __typename } }');
    expect(created).toEqual({ data: { createService: { __typename: 'CreateServiceSuccess' } } });
    expect(await stop(first)).toBe(0);
    expect(first.output()).toContain('"msg":"stopped"');
    expect(first.output().split(token!).length - 1).toBe(1); // printed once, never logged

    const second = await start(database.env);
    expect(second.output()).not.toMatch(/btb_/);
    expect(await query(second.port, token!, '{ service(name: "from-process") { state } }')).toEqual({ data: { service: { state: 'ACTIVE' } } });
    expect(await stop(second, 'SIGINT')).toBe(0);
    console.log(`embedded start-up to ready: first ${first.readyMs} ms, second ${second.readyMs} ms`);
  });

  it('shuts down cleanly on SIGTERM, closing open WebSocket subscriptions', async () => {
    const running = await start({ ...database.env, ADMIN_TOKEN, ENCRYPTION_KEY });
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(`ws://127.0.0.1:${running.port}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    await new Promise((resolve) => socket.once('message', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    expect(await stop(running)).toBe(0);
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
