// A/B of two builds on a noisy machine: dist/a.js and dist/b.js (copies of dist/main.js built from two
// versions of the code) served at once on one PostgreSQL database, their loads interleaved (the first
// round is a warm-up), reporting req/s, p99 and the server's CPU per request (utime + stime / requests),
// which other work on the machine disturbs far less than req/s.
//   npm run build && cp dist/main.js dist/a.js   (then change the code)
//   npm run build && cp dist/main.js dist/b.js && npx tsx bench/ab.ts
// Environment: Q (queries separated by |), C (connections, 50), D (seconds per load, 3), N (rounds, 3).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { ADMIN_TOKEN, ENCRYPTION_KEY } from '../test/helpers/credentials.js';
import { freshPostgres } from './lib.js';
import { seedServices } from './seed.js';
const databaseUrl = await freshPostgres('bench_ab');
async function start(file: string) {
  const child = spawn(process.execPath, [...(process.env.NODE_ARGS?.split(' ') ?? []), file], {
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      LOG_LEVEL: 'warn',
      ADMIN_TOKEN,
      ENCRYPTION_KEY,
      DATABASE_URL: databaseUrl,
      RATE_LIMIT_TOKEN_PER_SECOND: '1000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const port = await new Promise<string>((resolve) =>
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /localhost:(\d+)\/graphql/.exec(out);
      if (m) resolve(m[1]!);
    }),
  );
  const cpu = () => {
    const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10_000;
  };
  return { child, url: `http://127.0.0.1:${port}/graphql`, cpu };
}
const a = await start('dist/a.js');
const b = await start('dist/b.js');
await seedServices(databaseUrl, 500, 10, 3);
const qs = (process.env.Q ?? '{ service(name: "svc-0042") { id name edition state region scaleUnitCount } }').split(
  '|',
);
const res: Record<string, { rps: number[]; cpu: number[]; p99: number[] }> = {};
for (let i = 0; i < Number(process.env.N ?? 3); i++)
  for (const q of qs)
    for (const [name, s] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const c0 = s.cpu();
      const r = await autocannon({
        url: s.url,
        method: 'POST',
        connections: Number(process.env.C ?? 50),
        duration: Number(process.env.D ?? 3),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query: q }),
      });
      if (r.non2xx || r.errors) throw new Error(`${name} failed`);
      const k = `${name} ${q.slice(0, 40)}`;
      res[k] ??= { rps: [], cpu: [], p99: [] };
      if (i > 0) {
        res[k].rps.push(Math.round(r.requests.average));
        res[k].cpu.push(Math.round((s.cpu() - c0) / r.requests.total));
        res[k].p99.push(r.latency.p99);
      }
    }
for (const [k, v] of Object.entries(res))
  console.log(k, 'rps', v.rps.join(' '), '| cpu us/req', v.cpu.join(' '), '| p99', v.p99.join(' '));
a.child.kill();
b.child.kill();
process.exit(0);
