// Shared pieces of the benchmarks: a real server process, a GraphQL client, a bounded pool.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import postgres from 'postgres';
import { ADMIN_TOKEN } from '../test/helpers/credentials.js';
import { spawnServer } from '../test/helpers/process.js';

export { ADMIN_TOKEN };
let _built = false;
export const PG_ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A new PostgreSQL database for one benchmark: empty, or a copy of `template`. */
export async function freshPostgres(base: string, template?: string): Promise<string> {
  // BENCH_DATABASE_SUFFIX keeps the databases of two benchmark runs at once on one server apart.
  const name = `${base}${process.env.BENCH_DATABASE_SUFFIX ?? ''}`;
  const sql = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  await sql.unsafe(`drop database if exists ${name} with (force)`);
  await sql.unsafe(`create database ${name}${template ? ` template ${template}` : ''}`);
  await sql.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A server process (the tests' helper, running the bundle `npm start` runs) that also reports its peak resident memory. */
export async function startServerProcess(env: Record<string, string>) {
  _built ||= (execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' }), true);
  // BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": profiles the servers of a run.
  // One token drives each benchmark's whole load: its rate limit (5000/s by default) would cap what is measured.
  const limits = { RATE_LIMIT_TOKEN_PER_SECOND: '1000000' };
  const server = await spawnServer({ ADMIN_TOKEN, ...limits, ...env }, process.env.BENCH_SERVER_NODE_ARGS?.split(' '));
  return {
    ...server,
    /** Peak resident memory of the server process so far (VmHWM), in MiB. */
    peakRssMiB: () =>
      Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))![1]) / 1024,
    /** Resident memory of the server process now (VmRSS), in MiB. */
    rssMiB: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))![1]) / 1024,
    /** Starts a new peak: the next peakRssMiB() covers only what follows (Linux: clear_refs 5). */
    resetPeakRss: () => writeFileSync(`/proc/${server.child.pid}/clear_refs`, '5'),
    stop: async () => {
      await server.stop();
    },
  };
}

export async function gql<T = any>(url: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const send = () =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query, variables }),
    });
  // A kept-alive connection the server closed after 5 idle seconds, just as it was reused: the
  // request never reached the server; send it again on a new connection.
  const response = await send().catch((error) => {
    if (
      (error as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET' &&
      (error as { cause?: { code?: string } }).cause?.code !== 'UND_ERR_SOCKET'
    )
      throw error;
    return send();
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as T;
}

/** Runs `task(i)` for i in 0..count-1, at most `concurrency` at a time. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

export function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted[sorted.length - 1]! };
}
