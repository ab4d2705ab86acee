import { Writable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { freshDatabase } from './database.js';
import { until } from './wait.js';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

import { ADMIN_TOKEN, ENCRYPTION_KEY } from './credentials.js';

export { ADMIN_TOKEN, ENCRYPTION_KEY };

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[];
}

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  /** Every JSON log line the server wrote. */
  logs: string[];
  /** Every SQL statement the server sent, in order. */
  queries: string[];
  /** POST a GraphQL operation; authenticated as admin unless `token` says otherwise (null: no header). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphQLResponse<T>>;
  /** A graphql-ws client, authenticated as admin unless `token` says otherwise. */
  ws(token?: string | null): Client;
  stop(): Promise<void>;
}

/** The real server (HTTP + WebSocket) on an ephemeral port, with the given environment. */
export async function startServer(env: Record<string, string>): Promise<TestServer> {
  const logs: string[] = [];
  const queries: string[] = [];
  const config = loadConfig({ PORT: '0', ADMIN_TOKEN, ENCRYPTION_KEY, LOG_LEVEL: 'debug', ...env });
  const logDestination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const app = await startApp(config, { logDestination, onQuery: (sql) => queries.push(sql) });
  const clients: Client[] = [];
  return {
    app,
    url: app.url,
    wsUrl: app.url.replace('http', 'ws'),
    logs,
    queries,
    async gql(query, variables, token = ADMIN_TOKEN) {
      const response = await fetch(app.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, ...(await response.json()) };
    },
    ws(token = ADMIN_TOKEN) {
      const client = createClient({
        url: app.url.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      });
      clients.push(client);
      serverOf.set(client, app.url);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop(1000);
    },
  };
}

/** The server each test client talks to, so that `collect` can see its subscription open there. */
const serverOf = new WeakMap<Client, string>();

/** Subscriptions a server has opened since it started, from its /metrics. */
async function openedSubscriptions(url: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  return Number(/^biztalk_backup_subscriptions_opened_total (\d+)/m.exec(text)?.[1]);
}

/**
 * Collects the next `count` events of a subscription (then completes it). `ready` resolves once the
 * server has opened it (seen in its /metrics; 50 ms after connecting for a client of a server
 * process), so events published after it are not missed. (Of subscriptions started together, each
 * is ready when the first opens: await them one by one.)
 */
export function collect<T = any>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  count: number,
): { events: T[]; done: Promise<T[]>; ready: Promise<void> } {
  const events: T[] = [];
  const url = serverOf.get(client);
  const before = url ? openedSubscriptions(url) : Promise.resolve(0);
  let markReady!: () => void;
  let failReady!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => ((markReady = resolve), (failReady = reject)));
  ready.catch(() => {}); // a caller that does not wait for it learns of the failure from `done`
  let settled = false;
  const done = before.then(
    (opened) =>
      new Promise<T[]>((resolve, reject) => {
        const end = (outcome: () => void) => ((settled = true), markReady(), outcome());
        const dispose = client.subscribe<T>(
          { query, variables },
          {
            next: (value) => {
              if (value.errors) return end(() => reject(new Error(JSON.stringify(value.errors))));
              events.push(value.data as T);
              markReady();
              if (events.length === count) {
                dispose();
                end(() => resolve(events));
              }
            },
            error: (error) => end(() => reject(error)),
            complete: () => end(() => resolve(events)),
          },
        );
        if (!url) return void client.on('connected', () => setTimeout(markReady, 50));
        until(
          () => openedSubscriptions(url),
          (n) => n > opened || settled,
          10_000,
        ).then(
          (n) =>
            n > opened || settled
              ? markReady()
              : failReady(new Error('the server did not open the subscription within 10 s')),
          failReady,
        );
      }),
  );
  before.catch(failReady);
  return { events, done, ready };
}

/** The server of one test file: a fresh database and a server on it, started before and stopped after the file's tests. */
export function useTestServer(env: Record<string, string> = {}): { server: TestServer } {
  const handle = {} as { server: TestServer; database: Awaited<ReturnType<typeof freshDatabase>> };
  beforeAll(async () => {
    handle.database = await freshDatabase();
    handle.server = await startServer({ ...handle.database.env, ...env });
  });
  afterAll(async () => {
    await handle.server?.stop();
    await handle.database?.drop();
  });
  return handle;
}
