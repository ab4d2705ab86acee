// Event fan-out: graphql-ws subscribers of one restore plan's restoreProgress; the time from the
// mutation that moves the plan (resumeService: SUSPENDED → ACTIVE) to the event reaching each
// subscriber. One instance with 1,000 subscribers (target p99 < 100 ms), and two instances with
// 2,000 split over both (target p99 < 150 ms, memory per idle subscriber < 50 KB).
import { readFileSync } from 'node:fs';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ADMIN_TOKEN } from '../test/helpers/credentials.js';
import { freshPostgres, gql, pool, startServerProcess } from './lib.js';

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

async function suspendedPlan(url: string, name: string) {
  const s = await gql(
    url,
    `mutation { createService(input: { name: "${name}", edition: BASIC, region: "westus" }) { ... on CreateServiceSuccess { service { id } } } }`,
  );
  const b = await gql(
    url,
    'mutation ($s: ID!) { createBackup(input: { serviceId: $s }) { ... on CreateBackupSuccess { backup { id } } } }',
    { s: s.createService.service.id },
  );
  for (;;) {
    if (
      (await gql(url, 'query ($id: ID!) { backup(id: $id) { status } }', { id: b.createBackup.backup.id })).backup
        .status === 'SUCCEEDED'
    )
      break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const p = await gql(
    url,
    'mutation ($b: ID!, $n: String!) { createRestorePlan(input: { backupId: $b, targetName: $n }) { ... on CreateRestorePlanSuccess { plan { id } } } }',
    { b: b.createBackup.backup.id, n: `${name}-copy` },
  );
  const planId = p.createRestorePlan.plan.id;
  await gql(url, 'mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename } }', { id: planId });
  for (;;) {
    const plan = (await gql(url, 'query ($id: ID!) { restorePlan(id: $id) { state service { id } } }', { id: planId }))
      .restorePlan;
    if (plan.state === 'SUSPENDED') return { planId, serviceId: plan.service.id as string };
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function run(instances: number, subscribers: number) {
  const databaseUrl = await freshPostgres(`bench_fanout_${instances}`);
  const servers: Awaited<ReturnType<typeof startServerProcess>>[] = [];
  for (let i = 0; i < instances; i++) servers.push(await startServerProcess({ DATABASE_URL: databaseUrl }));
  const { planId, serviceId } = await suspendedPlan(servers[0]!.url, `fanout-${instances}`);
  const idle = servers.map((s) => rssKiB(s.child.pid!));
  const clients: Client[] = [];
  const arrivals: number[] = [];
  const byInstance: number[][] = servers.map(() => []);
  let ready = 0;
  // Subscribers connect 100 at a time: thousands of connections opened at once can overflow the
  // listen backlog (a run failed so), and the benchmark is about events, not connection storms.
  await pool(
    subscribers,
    100,
    (i) =>
      new Promise<void>((resolve, reject) => {
        const client = createClient({
          url: servers[i % instances]!.url.replace('http', 'ws'),
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        clients.push(client);
        client.subscribe(
          {
            query: 'subscription ($id: ID!) { restoreProgress(planId: $id) { sequence state } }',
            variables: { id: planId },
          },
          {
            next: (value: any) => {
              if (value.data?.restoreProgress.state === 'SUSPENDED' && ++ready) resolve();
              if (value.data?.restoreProgress.state === 'ACTIVE') {
                arrivals.push(performance.now());
                byInstance[i % instances]!.push(performance.now());
              }
            },
            error: reject,
            complete: () => {},
          },
        );
      }),
  );
  await new Promise((r) => setTimeout(r, 1000));
  const withSubscribers = servers.map((s) => rssKiB(s.child.pid!));
  const sent = performance.now();
  await gql(
    servers[0]!.url,
    'mutation ($id: ID!) { resumeService(input: { serviceId: $id, force: true }) { __typename } }',
    { id: serviceId },
  );
  const mutationMs = Math.round(performance.now() - sent); // its commit comes before any event can be sent
  const deadline = Date.now() + 30_000;
  while (arrivals.length < subscribers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const percentile = (times: number[], q: number) => {
    const latencies = times.map((t) => t - sent).sort((a, b) => a - b);
    return Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!);
  };
  const at = (q: number) => percentile(arrivals, q);
  await Promise.all(clients.map((c) => c.dispose()));
  await Promise.all(servers.map((s) => s.stop()));
  return {
    instances,
    subscribers,
    delivered: arrivals.length,
    latencyMs: { min: at(0), p50: at(0.5), p99: at(0.99), max: at(1 - 1e-9) },
    mutationMs,
    p99ByInstanceMs: byInstance.map((times) => percentile(times, 0.99)),
    memoryPerIdleSubscriberKiB: Math.round(withSubscribers.reduce((n, v, i) => n + v - idle[i]!, 0) / subscribers),
  };
}

export async function fanoutBench() {
  // BENCH_ONE=1: the one-instance run only.
  if (process.env.BENCH_ONE) return console.log(JSON.stringify(await run(1, SUBSCRIBERS)));
  const one = await run(1, SUBSCRIBERS);
  const two = await run(2, SUBSCRIBERS * 2);
  const result = {
    name: 'fanout',
    oneInstance: { ...one, target: 'p99 < 100 ms' },
    twoInstances: { ...two, target: 'p99 < 150 ms, < 50 KiB per idle subscriber' },
  };
  console.log(JSON.stringify(result, null, 2));
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await fanoutBench();
