import { spawn, type ChildProcess } from 'node:child_process';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ADMIN_TOKEN, ENCRYPTION_KEY } from './credentials.js';

/** A server started as an operator starts it (`npm start`: the dist/ bundle, built by the global setup) in its own process, configured by environment. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  gql(query: string, variables?: Record<string, unknown>): Promise<any>;
  ws(): Client;
  /** Sends the signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function spawnServer(
  env: Record<string, string>,
  nodeArgs: string[] = [],
  args: string[] = [],
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, 'dist/main.js', ...args], {
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'warn', ADMIN_TOKEN, ENCRYPTION_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /localhost:(\d+)\/graphql/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(Number(match[1]));
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`exited with ${code}: ${output}`));
    });
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  const clients: Client[] = [];
  return {
    child,
    url,
    output: () => output,
    async gql(query, variables) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query, variables }),
      });
      return ((await response.json()) as { data: any }).data;
    },
    ws() {
      const client = createClient({
        url: url.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      clients.push(client);
      return client;
    },
    async stop(signal = 'SIGTERM') {
      await Promise.all(clients.map((c) => c.dispose()));
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
