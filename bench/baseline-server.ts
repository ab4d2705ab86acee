// The baseline of the query benchmark: the same page as JSON from one hand-written SQL statement
// (lateral json_agg), the operator page likewise (operator-page.ts), and service(name:) from one
// hand-written statement, served by graphql-yoga on node:http like the product.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import postgres from 'postgres';
import { OPERATOR_SQL } from './operator-page.js';
import { PAGE_SQL } from './baseline-sql.js';

const sql = postgres(process.env.DATABASE_URL!, { max: 10 });

const yoga = createYoga({
  schema: createSchema({
    typeDefs: 'scalar JSON type Query { page: JSON operator: JSON service(name: String!): JSON }',
    resolvers: {
      Query: {
        page: async () => ({ services: { edges: (await sql.unsafe(PAGE_SQL))[0]!.edges } }),
        operator: async () => (await sql.unsafe(OPERATOR_SQL))[0]!.page,
        // The one-row read of service(name:), as one hand-written statement.
        service: async (_root: unknown, { name }: { name: string }) =>
          (
            await sql`select json_build_object('id', encode(('Service:' || id)::bytea, 'base64'), 'name', name, 'edition', edition,
              'state', state, 'region', region, 'scaleUnitCount', scale_unit_count) as s
              from services where name = ${name} and state <> 'DELETED' limit 1`
          )[0]?.s ?? null,
      },
    },
  }),
  logging: false,
});
const server = createServer(yoga);
server.listen(0, '127.0.0.1', () =>
  console.log(`baseline at http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`),
);
