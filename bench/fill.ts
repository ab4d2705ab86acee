// Fills a PREMIUM service at 8 units to its limits through the API, on PostgreSQL:
// 2,000 agreements (bound by 4,000 bridges: each agreement counts two), 20,000 profiles of 2,000
// partners, and 100,000 processed messages (control numbers, and MIC values on the AS2 agreements).
// Reports the time of each phase and the server's peak memory.
import { freshPostgres, gql, pool, startServerProcess } from './lib.js';

const scale = Number(process.env.BENCH_SCALE ?? 1); // 0.1 for a quick look
const PARTNERS = Math.round(2000 * scale);
const PROFILES_PER_PARTNER = 10;
const AGREEMENTS = Math.round(2000 * scale);
const MESSAGES = Math.round(100_000 * scale);
const CONCURRENCY = 16;

export async function fill(serviceName = 'bench-premium', keepRunning = false) {
  const databaseUrl = await freshPostgres('bench_fill');
  const server = await startServerProcess({ DATABASE_URL: databaseUrl });
  const timings: Record<string, number> = {};
  const phase = async (name: string, work: () => Promise<void>) => {
    const started = performance.now();
    await work();
    timings[name] = Math.round(performance.now() - started);
    console.log(`${name}: ${timings[name]} ms`);
  };
  let serviceId = '';
  const partnerIds: string[] = [];
  const profileIds: string[][] = [];
  const agreementIds: string[] = [];
  await phase('service', async () => {
    const r = await gql(
      server.url,
      'mutation { createService(input: { name: "' +
        serviceName +
        '", edition: PREMIUM, region: "westeurope", scaleUnitCount: 8 }) { ... on CreateServiceSuccess { service { id } } } }',
    );
    serviceId = r.createService.service.id;
  });
  await phase(`partners (${PARTNERS})`, () =>
    pool(PARTNERS, CONCURRENCY, async (i) => {
      const r = await gql(
        server.url,
        'mutation ($s: ID!, $n: String!) { createPartner(input: { serviceId: $s, name: $n }) { ... on CreatePartnerSuccess { partner { id } } } }',
        { s: serviceId, n: `Partner ${i}` },
      );
      partnerIds[i] = r.createPartner.partner.id;
    }),
  );
  await phase(`profiles (${PARTNERS * PROFILES_PER_PARTNER})`, () =>
    pool(PARTNERS * PROFILES_PER_PARTNER, CONCURRENCY, async (i) => {
      const partner = Math.floor(i / PROFILES_PER_PARTNER);
      const r = await gql(
        server.url,
        'mutation ($p: ID!, $n: String!, $id: String!) { createProfile(input: { partnerId: $p, name: $n, qualifier: "ZZ", identifier: $id }) { ... on CreateProfileSuccess { profile { id } } } }',
        { p: partnerIds[partner], n: `Profile ${i}`, id: `ID${i}` },
      );
      (profileIds[partner] ??= [])[i % PROFILES_PER_PARTNER] = r.createProfile.profile.id;
    }),
  );
  const protocols = ['X12', 'EDIFACT', 'AS2'];
  await phase(`agreements (${AGREEMENTS})`, () =>
    pool(AGREEMENTS, CONCURRENCY, async (i) => {
      const host = profileIds[0]![0];
      const guest = profileIds[1 + (i % (PARTNERS - 1))]![i % PROFILES_PER_PARTNER];
      const r = await gql(
        server.url,
        'mutation ($s: ID!, $n: String!, $h: ID!, $g: ID!, $p: Protocol!, $f: String) { createAgreement(input: { serviceId: $s, name: $n, hostProfileId: $h, guestProfileId: $g, protocol: $p, sourceFtpFolder: $f }) { __typename ... on CreateAgreementSuccess { agreement { id } } ... on Error { message } } }',
        {
          s: serviceId,
          n: `Agreement ${i}`,
          h: host,
          g: guest,
          p: protocols[i % 3],
          f: `ftp://ftp.partner${i}.example/inbound`,
        },
      );
      if (!r.createAgreement.agreement) throw new Error(r.createAgreement.message);
      agreementIds[i] = r.createAgreement.agreement.id;
    }),
  );
  const limit = await gql(
    server.url,
    'mutation ($s: ID!, $h: ID!, $g: ID!) { createAgreement(input: { serviceId: $s, name: "one too many", hostProfileId: $h, guestProfileId: $g, protocol: X12 }) { __typename ... on Error { code message } } }',
    { s: serviceId, h: profileIds[0]![0], g: profileIds[1]![0] },
  );
  console.log(
    `agreement ${AGREEMENTS + 1}: ${limit.createAgreement.__typename} ${limit.createAgreement.message ?? ''}`,
  );
  await phase(`messages (${MESSAGES})`, () =>
    pool(MESSAGES, CONCURRENCY, (i) =>
      gql(
        server.url,
        'mutation ($a: ID!, $p: String) { processEdiMessage(input: { agreementId: $a, payload: $p }) { __typename } }',
        { a: agreementIds[i % AGREEMENTS], p: `ISA*00*message ${i}~` },
      ),
    ),
  );
  const peak = server.peakRssMiB();
  console.log(`server peak RSS: ${peak.toFixed(0)} MiB`);
  const result = {
    timings,
    peakRssMiB: Math.round(peak),
    partners: PARTNERS,
    profiles: PARTNERS * PROFILES_PER_PARTNER,
    agreements: AGREEMENTS,
    messages: MESSAGES,
  };
  if (!keepRunning) await server.stop();
  return { result, server, databaseUrl, serviceId };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { result } = await fill();
  console.log(JSON.stringify(result));
}
