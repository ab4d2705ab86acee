import { expect, it } from 'vitest';
import { buildService } from './helpers/artifacts.js';
import { ADMIN_TOKEN, useTestServer } from './helpers/server.js';

// Seeded so that a failure replays: FUZZ_SEED=<seed> npm test -- fuzz
const SEED = Number(process.env.FUZZ_SEED ?? 20261127);
const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const file = useTestServer();

function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const documents = [
  '{ services(first: 5) { totalCount edges { node { id name state agreements { edges { node { name controlNumbers { interchange } } } } } } } }',
  'query ($name: String!) { service(name: $name) { name settings { acsIssuerKey { isSet } } backups { totalCount } } }',
  'mutation ($input: CreateServiceInput!) { createService(input: $input) { __typename ... on Error { code message } } }',
  'mutation ($input: CreatePartnerInput!) { createPartner(input: $input) { __typename ... on Error { code } } }',
  'mutation ($input: ProcessEdiMessageInput!) { processEdiMessage(input: $input) { __typename ... on Error { code } } }',
  'mutation ($input: CreateBackupInput!) { createBackup(input: $input) { __typename ... on Error { code } } }',
  'mutation ($input: CreateRestorePlanInput!) { createRestorePlan(input: $input) { __typename ... on Error { code } } }',
  'mutation ($input: SetBackupScheduleInput!) { setBackupSchedule(input: $input) { __typename ... on Error { code } } }',
  '{ node(id: "U2VydmljZTo=") { id } nameAvailability(name: "x") { available } editions { edition } }',
];
const alphabet = '{}()[]:$!@#.,"\\ \n\tabcdefghijklmnopqrstuvwxyz0123456789_-…é\u0000';
const values = () => ['', 'x', 'contoso-edi', -1, 0, 2 ** 31, 1.5, true, null, [], {}, 'ftp://', 'ÿ'.repeat(300), '"; drop table services; --', '../../etc/passwd', { nested: { deep: [1, 2, 3] } }];

it(`survives ${CASES} random and mutated operations: no 5xx, no crash, memory back to its baseline`, async () => {
  const built = await buildService(file.server.gql.bind(file.server), 'fuzz-target');
  const rand = random(SEED);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
  const mutate = (text: string) => {
    let out = text;
    for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n; i++) {
      const at = Math.floor(rand() * out.length);
      const choice = rand();
      if (choice < 0.4) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(rand() * 5));
      else if (choice < 0.8) out = out.slice(0, at) + pick([...alphabet]) + out.slice(at);
      else out = out.slice(0, at) + out.slice(at).split('').reverse().join('');
    }
    return out;
  };
  const variables = () => {
    const ids = [built.serviceId, built.agreements.as2, 'not-an-id', Buffer.from('Backup:123').toString('base64')];
    const input: Record<string, unknown> = {};
    for (const key of ['serviceId', 'agreementId', 'backupId', 'name', 'edition', 'region', 'payload', 'cron', 'targetName', 'label', 'keepLast']) {
      if (rand() < 0.5) input[key] = rand() < 0.4 ? pick(ids) : pick(values());
    }
    return rand() < 0.1 ? pick(values()) : { input, name: pick(values()) };
  };
  const send = async (body: string) => {
    const response = await fetch(file.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body });
    await response.arrayBuffer();
    return response.status;
  };
  const failures: string[] = [];
  const run = async (count: number) => {
    const statuses = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const r = rand();
      const query = r < 0.3 ? pick(documents) : mutate(pick(documents));
      const body = r < 0.05 ? mutate(JSON.stringify({ query, variables: variables() })) : JSON.stringify({ query, variables: variables() });
      const status = await send(body);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500) failures.push(`case ${i} (seed ${SEED}) answered ${status}: ${body.slice(0, 300)}`);
    }
    return statuses;
  };
  const forgetHarnessRecords = () => {
    // The test harness keeps every log line and SQL statement; those are not the server's memory.
    expect(file.server.logs.filter((l) => l.includes('"unexpected error"'))).toEqual([]);
    file.server.logs.length = 0;
    file.server.queries.length = 0;
  };
  expect(typeof global.gc).toBe('function');
  await run(1500); // warm up, filling the server's bounded parse and validation caches, before the baseline
  forgetHarnessRecords();
  global.gc?.();
  const baseline = process.memoryUsage().heapUsed;
  const statuses = await run(CASES);
  forgetHarnessRecords();
  global.gc?.();
  const grown = process.memoryUsage().heapUsed - baseline;
  console.log(`fuzz seed ${SEED}: ${CASES} cases, statuses ${JSON.stringify(Object.fromEntries(statuses))}, heap growth ${(grown / 1048576).toFixed(1)} MiB`);
  expect(failures).toEqual([]);
  expect(grown).toBeLessThan(16 * 1024 * 1024);
  expect(await (await fetch(file.server.url.replace('/graphql', '/healthz'))).text()).toBe('ok\n');
  expect((await file.server.gql('{ service(name: "fuzz-target") { state } }')).data.service.state).toBe('ACTIVE');
}, 300_000);
