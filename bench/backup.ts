// Backup of the PREMIUM 8-unit benchmark service (2,000 agreements, 20,000 profiles, 100,000 MIC
// values) plus 500 custom assemblies of 128 KiB, against pg_dump --data-only of the same rows,
// measured in the same run. Target: backup time at most 1.3x pg_dump's; server peak RSS < 300 MB.
// Then the restore of that backup, from the executeRestorePlan call to the SUSPENDED event, against
// pg_restore of the dump into empty tables (target: at most 1.3x).
// BENCH_STORE=azure: the backups go to Azure Blob Storage (Azurite, started here); default: the
// server's default DIRECTORY store (DATA_DIR/backups).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase } from '../src/db/client.js';
import { startAzurite } from '../test/helpers/azurite.js';
import { fill } from './fill.js';
import { freshPostgres, gql, pool, startServerProcess, stats } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ASSEMBLIES = Math.round(500 * Number(process.env.BENCH_SCALE ?? 1));
export const SERVICE_TABLES = [
  'services',
  'service_secrets',
  'partners',
  'profiles',
  'agreements',
  'custom_assemblies',
  'bridges',
  'certificates',
  'transforms',
  'pipelines',
  'templates',
  'x12_mappings',
  'control_numbers',
  'as2_mic_values',
];

export async function backupBench() {
  // BENCH_REUSE=<database>: skip the fill (and the assemblies) and measure on a copy of a database an
  // earlier run filled (saved with `createdb -h 127.0.0.1 -U postgres -T bench_fill <database>`).
  const reuse = process.env.BENCH_REUSE;
  const { server, databaseUrl, serviceId } = reuse ? await reused(reuse) : await fill('bench-premium', true);
  const backupMs: number[] = [];
  const dumpMs: number[] = [];
  const peakRssMiB: Record<string, number> = {};
  const phase = (name: string) => {
    peakRssMiB[name] = Math.round(server.peakRssMiB());
    server.resetPeakRss();
  };
  phase(reuse ? 'start' : 'fill');
  const store = process.env.BENCH_STORE === 'azure' ? await azureStore(server.url) : null;
  if (!reuse) {
    await addAssemblies(server.url, serviceId);
    phase('assemblies');
  }
  // BENCH_RESTORE_ONLY=1: one untimed backup and dump, then the timed restores.
  const last = await backups(
    server.url,
    serviceId,
    backupMs,
    dumpMs,
    databaseUrl,
    process.env.BENCH_RESTORE_ONLY ? 0 : RUNS,
    store?.id,
  );
  const lastBackupId = last.id;
  phase('backups');
  // Restore of the same backup into new services, against pg_restore of the dump into empty tables;
  // the two alternate, so that both see the same moments of a noisy machine.
  const restoreMs: number[] = [];
  const pgRestoreMs: number[] = [];
  // Like pg_restore into empty tables, each restore goes into tables without the source service's
  // rows or an earlier restore's (the disaster-recovery case: the service is gone, its backup is
  // not): inserting into larger indexes costs more, and that is no part of the comparison.
  await emptyServiceTables(databaseUrl, serviceId);
  for (let run = 0; run < RUNS; run++) {
    const target = await freshPostgres('bench_restore_target');
    const database = await openDatabase({ databaseUrl: target, dataDir: '/tmp' });
    await database.migrate();
    await database.close();
    const t = performance.now();
    execFileSync('pg_restore', ['--data-only', '-d', target, '/tmp/bench-backup.dump']);
    pgRestoreMs.push(Math.round(performance.now() - t));

    const planned = await gql(
      server.url,
      'mutation ($b: ID!, $n: String!) { createRestorePlan(input: { backupId: $b, targetName: $n, targetEdition: PREMIUM }) { ... on CreateRestorePlanSuccess { plan { id } } } }',
      { b: lastBackupId, n: `bench-restored-${run}` },
    );
    const planId = planned.createRestorePlan.plan.id;
    // Timed from the executeRestorePlan call (its re-validation included) to the SUSPENDED event.
    if (run > 0) await emptyServiceTables(databaseUrl, null);
    const sent = Date.now();
    await gql(server.url, 'mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename } }', {
      id: planId,
    });
    const executeMs = Date.now() - sent;
    let plan: any;
    for (;;) {
      plan = (
        await gql(server.url, 'query ($id: ID!) { restorePlan(id: $id) { state history { state at } } }', {
          id: planId,
        })
      ).restorePlan;
      if (!['PLANNED', 'RESTORING'].includes(plan.state)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (plan.state !== 'SUSPENDED') throw new Error(`restore ${plan.state}`);
    const ended = Date.parse(plan.history.find((e: any) => e.state === 'SUSPENDED').at);
    restoreMs.push(ended - sent);
    console.log(
      `restore run ${run}: ${ended - sent} ms (executeRestorePlan answered in ${executeMs} ms); pg_restore ${pgRestoreMs[run]} ms; ratio ${((ended - sent) / pgRestoreMs[run]!).toFixed(2)}`,
    );
  }
  phase('restores');
  await server.stop();
  store?.azurite.kill();
  const backup = stats(backupMs);
  const dump = stats(dumpMs);
  const restored = stats(restoreMs);
  const pgRestore = stats(pgRestoreMs);
  const result = {
    name: 'backup',
    store: store ? 'AZURE_BLOB (Azurite)' : 'DIRECTORY',
    contentBytes: last.sizeBytes,
    backupMs: backup,
    pgDumpMs: dump,
    ratio: { min: backup.min / dump.max, median: backup.median / dump.median, max: backup.max / dump.min },
    target: 'median ratio <= 1.3 and server peak RSS < 300 MB (286 MiB) in every phase',
    restoreMs: restored,
    pgRestoreMs: pgRestore,
    restoreRatio: {
      min: restored.min / pgRestore.max,
      median: restored.median / pgRestore.median,
      max: restored.max / pgRestore.min,
    },
    restoreTarget: 'median ratio <= 1.3',
    serverPeakRssMiB: peakRssMiB,
    itemCounts: last.itemCounts,
  };
  console.log(JSON.stringify(result, null, 2));
  return result;
}

/** Azurite on a free port, registered with the server as an AZURE_BLOB store. */
async function azureStore(url: string) {
  const azurite = await startAzurite();
  const made = await gql(
    url,
    'mutation ($cs: String!) { createBackupStore(input: { name: "bench-azure", kind: AZURE_BLOB, credentials: $cs }) { ... on CreateBackupStoreSuccess { backupStore { id } } } }',
    { cs: azurite.connectionString },
  );
  return { id: made.createBackupStore.backupStore.id as string, azurite: azurite.process };
}

/** The 128 KiB custom assemblies of the benchmark, added to the filled service through the API. */
async function addAssemblies(url: string, serviceId: string) {
  const started = performance.now();
  await pool(ASSEMBLIES, 8, (i) =>
    gql(
      url,
      'mutation ($s: ID!, $n: String!, $c: String!) { createCustomAssembly(input: { serviceId: $s, name: $n, version: "1.0.0.0", contentBase64: $c }) { __typename } }',
      {
        s: serviceId,
        n: `Assembly${i}`,
        c: randomBytes(128 * 1024).toString('base64'),
      },
    ),
  );
  console.log(`assemblies (${ASSEMBLIES} x 128 KiB): ${Math.round(performance.now() - started)} ms`);
}

/** Timed backups against timed pg_dumps; returns the last backup. */
async function backups(
  url: string,
  serviceId: string,
  backupMs: number[],
  dumpMs: number[],
  databaseUrl: string,
  runs: number,
  storeId?: string,
) {
  let last: any;
  for (let run = 0; run < runs + 1; run++) {
    const created = await gql(
      url,
      'mutation ($s: ID!, $store: ID) { createBackup(input: { serviceId: $s, storeId: $store }) { ... on CreateBackupSuccess { backup { id } } } }',
      { s: serviceId, store: storeId ?? null },
    );
    const id = created.createBackup.backup.id;
    for (;;) {
      last = (
        await gql(
          url,
          'query ($id: ID!) { backup(id: $id) { id status startedAt completedAt sizeBytes storedBytes itemCounts { category count } } }',
          { id },
        )
      ).backup;
      if (!['PENDING', 'RUNNING'].includes(last.status)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (last.status !== 'SUCCEEDED') throw new Error(`backup ${last.status}`);
    const ms = Date.parse(last.completedAt) - Date.parse(last.startedAt);
    if (run > 0) backupMs.push(ms); // the first run warms up
    console.log(
      `backup run ${run}${run === 0 ? ' (warm-up)' : ''}: ${ms} ms, ${last.sizeBytes} bytes of content, ${last.storedBytes} stored`,
    );
  }
  for (let run = 0; run < runs + 1; run++) {
    const t = performance.now();
    execFileSync('pg_dump', [
      '--data-only',
      '-Fc',
      ...SERVICE_TABLES.flatMap((table) => ['-t', table]),
      '-f',
      '/tmp/bench-backup.dump',
      databaseUrl,
    ]);
    const ms = Math.round(performance.now() - t);
    if (run > 0) dumpMs.push(ms);
    console.log(`pg_dump run ${run}${run === 0 ? ' (warm-up)' : ''}: ${ms} ms`);
  }
  return last;
}

/**
 * Removes the rows of the source service (`serviceId`, a global id; its backups stay) and of the
 * services restored by earlier runs, then vacuums: the next restore finds tables as pg_restore does.
 */
async function emptyServiceTables(databaseUrl: string, serviceId: string | null) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  await sql`delete from services where name like 'bench-restored-%'`;
  if (serviceId) {
    const id = Buffer.from(serviceId, 'base64').toString().split(':')[1]!;
    for (const table of [
      'bridges',
      'agreements',
      'profiles',
      'partners',
      'custom_assemblies',
      'certificates',
      'transforms',
      'pipelines',
      'templates',
      'x12_mappings',
    ]) {
      await sql.unsafe(`delete from ${table} where service_id = $1`, [id]);
    }
  }
  for (const table of SERVICE_TABLES) await sql.unsafe(`vacuum analyze ${table}`);
  await sql.end();
}

/** A server on a fresh copy of an already filled database (BENCH_REUSE). */
async function reused(template: string) {
  const databaseUrl = await freshPostgres('bench_reuse', template);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  await sql`delete from services where name like 'bench-restored-%'`; // restores of the run that filled it
  await sql`delete from backups where service_name = 'bench-premium'`;
  await sql`vacuum analyze`; // what the deletes left would slow the next reads
  const [service] = await sql<
    { id: string }[]
  >`select id from services where name = 'bench-premium' and deleted_at is null`;
  await sql.end();
  return {
    server: await startServerProcess({ DATABASE_URL: databaseUrl }),
    databaseUrl,
    serviceId: Buffer.from(`Service:${service!.id}`).toString('base64'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await backupBench();
