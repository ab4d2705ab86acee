// Query path: a page of 50 services, each with 10 backups and its agreements (nested connections), on
// a database of 500 services; against a baseline that produces the same JSON with one hand-written
// SQL query (postgres.js, json_agg) behind the same yoga server stack. Targets (issue 17): throughput at
// least 1.0x the baseline, at most 2 SQL statements per request; service(name:) at 50 concurrent
// connections at least 6,000 req/s with a p99 under 15 ms (also measured against the same one-row read
// hand-written behind yoga, in the same run). The second page, shaped like an operator's screen
// (operator-page.ts: restore plans with checks and history, backups with item counts, the audit log),
// against its own json_agg baseline: at least 1.0x. BENCH_QUERY=operator measures that page alone.
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { startApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { ADMIN_TOKEN } from '../test/helpers/credentials.js';
import { freshPostgres, startServerProcess, stats } from './lib.js';
import { OPERATOR_QUERY, seedOperatorScreen } from './operator-page.js';
import { PAGE_QUERY } from './baseline-sql.js';
import { seedServices } from './seed.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

const SINGLE_QUERY = '{ service(name: "svc-0042") { id name edition state region scaleUnitCount } }';

async function load(url: string, body: string, connections: number, token = true) {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: SECONDS,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {}) },
    body,
  });
  if (result.non2xx || result.errors) throw new Error(`load failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99, p50: result.latency.p50 };
}

/** Statements the product sends for one page: counted through drizzle's logger on an in-process server. */
async function statementsPerPage(databaseUrl: string): Promise<number> {
  const queries: string[] = [];
  const app = await startApp(
    loadConfig({
      PORT: '0',
      DATABASE_URL: databaseUrl,
      ADMIN_TOKEN,
      ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      LOG_LEVEL: 'silent',
      SCHEDULER_INTERVAL_MS: '3600000',
    }),
    { onQuery: (q) => queries.push(q) },
  );
  await new Promise((r) => setTimeout(r, 300)); // let start-up work settle
  queries.length = 0;
  const response = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query: PAGE_QUERY }),
  });
  const body = (await response.json()) as { data: { services: { edges: unknown[] } } };
  if (body.data.services.edges.length !== 50) throw new Error('unexpected page');
  const count = queries.length;
  await app.stop(100);
  return count;
}

/** The product and the baseline must answer with the same JSON (the page, and one service), or nothing is measured. */
async function sameAnswers(productUrl: string, baselineUrl: string) {
  const ask = async (url: string, query: string, token: boolean) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {}) },
      body: JSON.stringify({ query }),
    });
    return JSON.stringify(((await response.json()) as { data: unknown }).data);
  };
  const page = await ask(productUrl, PAGE_QUERY, true);
  const single = await ask(productUrl, SINGLE_QUERY, true);
  if (page !== JSON.stringify({ services: JSON.parse(await ask(baselineUrl, '{ page }', false)).page.services }))
    throw new Error('the page differs from its baseline');
  if (
    single !==
    JSON.stringify({ service: JSON.parse(await ask(baselineUrl, '{ service(name: "svc-0042") }', false)).service })
  )
    throw new Error('service(name:) differs from its baseline');
  if (!page.includes('"createdAt"') || !single.includes('"svc-0042"')) throw new Error('unexpected answers');
  const operator = await ask(productUrl, OPERATOR_QUERY, true);
  if (operator !== JSON.stringify(JSON.parse(await ask(baselineUrl, '{ operator }', false)).operator))
    throw new Error('the operator page differs from its baseline');
  if (!operator.includes('"itemCounts"') || !operator.includes('"progress":{'))
    throw new Error('unexpected operator page');
}

export async function queryBench() {
  const databaseUrl = await freshPostgres('bench_query');
  const product = await startServerProcess({ DATABASE_URL: databaseUrl });
  await seedServices(databaseUrl, 500, 10, 3);
  await seedOperatorScreen(databaseUrl, 100, 2000);
  const baseline = spawn(process.execPath, ['--import', 'tsx', 'bench/baseline-server.ts'], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const baselineUrl = await new Promise<string>((resolve) =>
    baseline.stdout!.on(
      'data',
      (d) => /(http:\/\/\S+)/.test(String(d)) && resolve(/(http:\/\/\S+)/.exec(String(d))![1]!),
    ),
  );
  try {
    const statements = await statementsPerPage(databaseUrl);
    await sameAnswers(product.url, baselineUrl);
    /** Requests a second of the product and of the baseline, alternating, after a warm-up of both. */
    const compare = async (productBody: string, baselineBody: string, connections: number) => {
      await load(product.url, productBody, connections);
      await load(baselineUrl, baselineBody, connections, false);
      const runs = { product: [] as number[], baseline: [] as number[] };
      for (let run = 0; run < RUNS; run++) {
        runs.product.push((await load(product.url, productBody, connections)).rps);
        runs.baseline.push((await load(baselineUrl, baselineBody, connections, false)).rps);
      }
      const p = stats(runs.product);
      const b = stats(runs.baseline);
      return { product: p, baseline: b, ratio: p.median / b.median, target: '>= 1.0' };
    };
    const operatorPage = await compare(
      JSON.stringify({ query: OPERATOR_QUERY }),
      JSON.stringify({ query: '{ operator }' }),
      10,
    );
    if (process.env.BENCH_QUERY === 'operator') {
      console.log(JSON.stringify({ name: 'query', operatorPage }, null, 2));
      return { name: 'query', operatorPage };
    }
    const pageBody = JSON.stringify({ query: PAGE_QUERY });
    const baselineBody = JSON.stringify({ query: '{ page }' });
    await load(product.url, pageBody, 10);
    await load(baselineUrl, baselineBody, 10); // warm-up both
    const productRps: number[] = [];
    const baselineRps: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      productRps.push((await load(product.url, pageBody, 10)).rps);
      baselineRps.push((await load(baselineUrl, baselineBody, 10, false)).rps);
    }
    // service(name:) at 50 connections, product and baseline alternating (the same row as JSON).
    const singleBody = JSON.stringify({ query: SINGLE_QUERY });
    const baselineSingleBody = JSON.stringify({ query: '{ service(name: "svc-0042") }' });
    await load(product.url, singleBody, 50);
    await load(baselineUrl, baselineSingleBody, 50, false); // warm-up both
    const single = [];
    const baselineSingle = [];
    for (let run = 0; run < RUNS; run++) {
      single.push(await load(product.url, singleBody, 50));
      baselineSingle.push(await load(baselineUrl, baselineSingleBody, 50, false));
    }
    const p = stats(productRps);
    const b = stats(baselineRps);
    const result = {
      name: 'query',
      pageThroughput: { product: p, baseline: b, ratio: p.median / b.median, target: '>= 1.0' },
      statementsPerPage: { value: statements, target: '<= 2' },
      singleObjectP99Ms: { ...stats(single.map((s) => s.p99)), target: '< 15 at 50 connections, >= 6,000 req/s' },
      singleObjectRps: stats(single.map((s) => s.rps)),
      singleObjectBaseline: {
        rps: stats(baselineSingle.map((s) => s.rps)),
        p99Ms: stats(baselineSingle.map((s) => s.p99)),
      },
      singleObjectRatio: stats(single.map((s) => s.rps)).median / stats(baselineSingle.map((s) => s.rps)).median,
      operatorPage,
    };
    console.log(JSON.stringify(result, null, 2));
    return result;
  } finally {
    baseline.kill();
    await product.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await queryBench();
