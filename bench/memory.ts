// Memory of the server process as `npm start` runs it (the bundle on plain Node): peak and idle RSS on
// the embedded default (PGlite) on its first start (a new data directory), on a restart, under a read
// load, and idle on PostgreSQL. Target: peak RSS under 300 MB in every phase.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshPostgres, gql, pool, startServerProcess, stats } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const settle = () => new Promise((resolve) => setTimeout(resolve, 2000));

async function embeddedRun() {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  try {
    const first = await startServerProcess({ DATA_DIR: dataDir });
    await settle();
    const firstStart = { peak: first.peakRssMiB(), idle: first.rssMiB() };
    await first.stop();
    const server = await startServerProcess({ DATA_DIR: dataDir });
    await settle();
    const restart = { peak: server.peakRssMiB(), idle: server.rssMiB() };
    server.resetPeakRss();
    for (let i = 0; i < 20; i++)
      await gql(
        server.url,
        `mutation { createService(input: { name: "mem-${i}", edition: BASIC, region: "westus" }) { __typename } }`,
      );
    await pool(1000, 10, () =>
      gql(
        server.url,
        '{ services(first: 50) { edges { node { name edition state backups(first: 10) { totalCount } } } } }',
      ),
    );
    const underLoad = { peak: server.peakRssMiB(), idle: server.rssMiB() };
    await server.stop();
    return { firstStart, restart, underLoad };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function postgresRun() {
  const server = await startServerProcess({ DATABASE_URL: await freshPostgres('bench_memory') });
  await settle();
  const result = { peak: server.peakRssMiB(), idle: server.rssMiB() };
  await server.stop();
  return result;
}

export async function memoryBench() {
  const embedded: Awaited<ReturnType<typeof embeddedRun>>[] = [];
  const onPostgres: Awaited<ReturnType<typeof postgresRun>>[] = [];
  for (let run = 0; run < RUNS; run++) {
    embedded.push(await embeddedRun());
    onPostgres.push(await postgresRun());
  }
  const phase = (pick: (run: Awaited<ReturnType<typeof embeddedRun>>) => { peak: number; idle: number }) => ({
    peakMiB: stats(embedded.map((r) => Math.round(pick(r).peak))),
    idleMiB: stats(embedded.map((r) => Math.round(pick(r).idle))),
  });
  const result = {
    name: 'memory',
    embeddedFirstStart: phase((r) => r.firstStart),
    embeddedRestart: phase((r) => r.restart),
    embeddedUnderReadLoad: phase((r) => r.underLoad),
    postgres: {
      peakMiB: stats(onPostgres.map((r) => Math.round(r.peak))),
      idleMiB: stats(onPostgres.map((r) => Math.round(r.idle))),
    },
    target: 'peak < 300 MB (286 MiB) in every phase',
  };
  console.log(JSON.stringify(result, null, 2));
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await memoryBench();
