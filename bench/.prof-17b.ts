import autocannon from 'autocannon';
import postgres from 'postgres';
import { ADMIN_TOKEN } from '../test/helpers/credentials.js';
import { freshPostgres, startServerProcess } from './lib.js';
import { seedServices } from './seed.js';
const databaseUrl = await freshPostgres('bench_prof_17b');
const server = await startServerProcess({ DATABASE_URL: databaseUrl });
await seedServices(databaseUrl, 10, 0, 5);
const sql = postgres(databaseUrl, { max: 1 });
const services = await sql<{ id: string }[]>`select id from services order by id`;
const agreements = await sql<{ id: string }[]>`select id from agreements order by id`;
const g = (t: string, id: string) => Buffer.from(`${t}:${id}`).toString('base64');
let n = 0;
const which = process.env.WHICH ?? 'createPartner';
const r = await autocannon({
  url: server.url,
  connections: 50,
  duration: 10,
  requests: [
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      setupRequest: (req) => ({
        ...req,
        body:
          which === 'createPartner'
            ? JSON.stringify({
                query: 'mutation ($input: CreatePartnerInput!) { createPartner(input: $input) { __typename } }',
                variables: { input: { serviceId: g('Service', services[n % 10]!.id), name: `P ${n++}` } },
              })
            : JSON.stringify({
                query: 'mutation ($input: UpdateAgreementInput!) { updateAgreement(input: $input) { __typename } }',
                variables: {
                  input: {
                    agreementId: g('Agreement', agreements[n % agreements.length]!.id),
                    sourceFtpFolder: `ftp://x.example.com/${n++}`,
                  },
                },
              }),
      }),
    },
  ],
});
console.log(which, r.requests.average, r.non2xx);
await sql.end();
await server.stop();
