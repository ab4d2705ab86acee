// Mutation path at 50 concurrent clients, each mutation against the same write issued straight through
// postgres.js at the same concurrency, measured in the same run. Target: at least 0.5x the baseline's
// throughput for each.
// - processEdiMessage vs the control-number UPDATE;
// - createPartner vs the INSERT of a partner row (counted as the rows created, so that a refused
//   request cannot count);
// - updateAgreement (a new source FTP folder) vs the UPDATE of that column.
// Each API figure also gives the server's CPU per request (utime + stime / requests), and the same server
// answering `{ __typename }` (token check, parse cache, every plugin, no resolver, no database) shows
// what the GraphQL request alone costs at this concurrency.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { ADMIN_TOKEN } from '../test/helpers/credentials.js';
import { freshPostgres, startServerProcess, stats } from './lib.js';
import { seedServices } from './seed.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;
const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

export async function mutationBench() {
  const databaseUrl = await freshPostgres('bench_mutation');
  const server = await startServerProcess({ DATABASE_URL: databaseUrl });
  await seedServices(databaseUrl, 10, 0, 5);
  const sql = postgres(databaseUrl, { max: CONNECTIONS, onnotice: () => {} });
  const agreements = await sql<{ id: string }[]>`select id from agreements order by id`;
  const services = await sql<{ id: string }[]>`select id from services order by id`;
  let sequence = 0;
  /** CPU time the server process has used, in µs. */
  const serverCpu = () => {
    const fields = readFileSync(`/proc/${server.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  };
  const cpuPerRequest: Record<string, number[]> = {};

  /** Requests a second through the API, each body from `body(n)`; `done()` (optional) counts what was really written instead. */
  const api = async (body: (n: number) => string, done?: () => Promise<number>) => {
    const before = done ? await done() : 0;
    const cpuBefore = serverCpu();
    const result = await autocannon({
      url: server.url,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
          setupRequest: (req) => ({ ...req, body: body(sequence++) }),
        },
      ],
    });
    if (result.non2xx || result.errors)
      throw new Error(`load failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
    const name = JSON.parse(body(0)).query.match(/\{\s*(\w+)/)[1] as string;
    (cpuPerRequest[name] ??= []).push(Math.round((serverCpu() - cpuBefore) / result.requests.total));
    return done ? ((await done()) - before) / SECONDS : result.requests.average;
  };
  /** Statements a second straight through postgres.js at the same concurrency. */
  const direct = async (statement: (n: number) => Promise<unknown>) => {
    let done = 0;
    const deadline = Date.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < deadline) {
          await statement(sequence++);
          done++;
        }
      }),
    );
    return done / SECONDS;
  };
  const compare = async (name: string, product: () => Promise<number>, baseline: () => Promise<number>) => {
    await product();
    await baseline(); // warm-up
    const productRps: number[] = [];
    const baselineRps: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      productRps.push(await product());
      baselineRps.push(await baseline());
    }
    const p = stats(productRps);
    const b = stats(baselineRps);
    const result = { product: p, baseline: b, ratio: p.median / b.median, target: '>= 0.5' };
    console.log(name, JSON.stringify(result));
    return result;
  };

  try {
    const processEdiMessage = await compare(
      'processEdiMessage',
      () =>
        api((n) =>
          JSON.stringify({
            query: 'mutation ($input: ProcessEdiMessageInput!) { processEdiMessage(input: $input) { __typename } }',
            variables: {
              input: {
                agreementId: globalId('Agreement', agreements[n % agreements.length]!.id),
                payload: 'ISA*00*bench~',
              },
            },
          }),
        ),
      () =>
        direct(
          (n) =>
            sql`update control_numbers set interchange = interchange + 1, "group" = "group" + 1, transaction_set = transaction_set + 1, updated_at = now() where agreement_id = ${agreements[n % agreements.length]!.id} returning interchange, "group", transaction_set`,
        ),
    );
    const partners = async () => (await sql<{ n: number }[]>`select count(*)::int as n from partners`)[0]!.n;
    const createPartner = await compare(
      'createPartner',
      () =>
        api(
          (n) =>
            JSON.stringify({
              query: 'mutation ($input: CreatePartnerInput!) { createPartner(input: $input) { __typename } }',
              variables: {
                input: { serviceId: globalId('Service', services[n % services.length]!.id), name: `Partner ${n}` },
              },
            }),
          partners,
        ),
      () =>
        direct(
          (n) =>
            sql`insert into partners (service_id, name, created_at, updated_at) values (${services[n % services.length]!.id}, ${`Partner ${n}`}, now(), now())`,
        ),
    );
    const updateAgreement = await compare(
      'updateAgreement',
      () =>
        api((n) =>
          JSON.stringify({
            query: 'mutation ($input: UpdateAgreementInput!) { updateAgreement(input: $input) { __typename } }',
            variables: {
              input: {
                agreementId: globalId('Agreement', agreements[n % agreements.length]!.id),
                sourceFtpFolder: `ftp://bench.example.com/in/${n}`,
              },
            },
          }),
        ),
      () =>
        direct(
          (n) =>
            sql`update agreements set source_ftp_folder = ${`ftp://bench.example.com/in/${n}`}, updated_at = now() where id = ${agreements[n % agreements.length]!.id}`,
        ),
    );
    // The request alone: the same server, the same concurrency, no resolver and no database.
    await api(() => JSON.stringify({ query: '{ __typename }' }));
    const bare = stats([
      await api(() => JSON.stringify({ query: '{ __typename }' })),
      await api(() => JSON.stringify({ query: '{ __typename }' })),
      await api(() => JSON.stringify({ query: '{ __typename }' })),
    ]);
    const cpu = Object.fromEntries(Object.entries(cpuPerRequest).map(([k, v]) => [k, stats(v.slice(1))]));
    console.log('__typename', JSON.stringify(bare), 'server CPU µs per request', JSON.stringify(cpu));
    const result = {
      name: 'mutation',
      processEdiMessage,
      createPartner,
      updateAgreement,
      bareRequest: bare,
      serverCpuMicrosPerRequest: cpu,
    };
    console.log(JSON.stringify(result, null, 2));
    return result;
  } finally {
    await sql.end();
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await mutationBench();
