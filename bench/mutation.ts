// Mutation path: processEdiMessage through the API at 50 concurrent clients, against the same
// control-number UPDATE issued straight through postgres.js at the same concurrency. Target: at least
// 0.5x the baseline's throughput.
import autocannon from 'autocannon';
import postgres from 'postgres';
import { ADMIN_TOKEN } from '../test/helpers/credentials.js';
import { freshPostgres, startServerProcess, stats } from './lib.js';
import { seedServices } from './seed.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;

export async function mutationBench() {
  const databaseUrl = await freshPostgres('bench_mutation');
  const server = await startServerProcess({ DATABASE_URL: databaseUrl });
  await seedServices(databaseUrl, 10, 0, 5);
  const sql = postgres(databaseUrl, { max: CONNECTIONS, onnotice: () => {} });
  const agreements = await sql<{ id: string }[]>`select id from agreements order by id`;
  try {
    const bodies = agreements.map(({ id }) =>
      JSON.stringify({
        query: 'mutation ($input: ProcessEdiMessageInput!) { processEdiMessage(input: $input) { __typename } }',
        variables: {
          input: { agreementId: Buffer.from(`Agreement:${id}`).toString('base64'), payload: 'ISA*00*bench~' },
        },
      }),
    );
    const api = async () => {
      let next = 0;
      const result = await autocannon({
        url: server.url,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
            setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }),
          },
        ],
      });
      if (result.non2xx || result.errors)
        throw new Error(`load failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
      return result.requests.average;
    };
    const direct = async () => {
      let done = 0;
      const deadline = Date.now() + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async (_, i) => {
          while (Date.now() < deadline) {
            const id = agreements[(i + done) % agreements.length]!.id;
            await sql`update control_numbers set interchange = interchange + 1, "group" = "group" + 1, transaction_set = transaction_set + 1, updated_at = now() where agreement_id = ${id} returning interchange, "group", transaction_set`;
            done++;
          }
        }),
      );
      return done / SECONDS;
    };
    await api();
    await direct(); // warm-up
    const apiRps: number[] = [];
    const directRps: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      apiRps.push(await api());
      directRps.push(await direct());
    }
    const a = stats(apiRps);
    const d = stats(directRps);
    const result = {
      name: 'mutation',
      processEdiMessageRps: a,
      directUpdateRps: d,
      ratio: a.median / d.median,
      target: '>= 0.5',
    };
    console.log(JSON.stringify(result, null, 2));
    return result;
  } finally {
    await sql.end();
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await mutationBench();
