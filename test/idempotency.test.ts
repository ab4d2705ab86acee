import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetExpiredKeys } from '../src/idempotency/service.js';
import { createService, mutate } from './helpers/artifacts.js';
import { freshDatabase, type TestDatabase } from './helpers/database.js';
import { ADMIN_TOKEN, startServer, type TestServer } from './helpers/server.js';

// Two instances share one database only on PostgreSQL (PGlite is one process's own).
const postgres = !!process.env.TEST_DATABASE_URL;

let database: TestDatabase;
let one: TestServer;
let two: TestServer | null = null;
beforeAll(async () => {
  database = await freshDatabase();
  one = await startServer(database.env);
  if (postgres) two = await startServer(database.env);
});
afterAll(async () => {
  await Promise.all([one?.stop(), two?.stop()]);
  await database?.drop();
});

const CREATE_PARTNER = `mutation ($input: CreatePartnerInput!) { createPartner(input: $input) {
  __typename
  ... on CreatePartnerSuccess { partner { id name } }
  ... on Error { code message }
  ... on IdempotencyKeyReusedError { operation }
} }`;

const partnerCount = async (serviceId: string) =>
  (
    await one.gql('query ($id: ID!) { node(id: $id) { ... on Service { partners { totalCount } } } }', {
      id: serviceId,
    })
  ).data.node.partners.totalCount;

const auditOutcomes = async (operation: string) =>
  (
    await one.gql('query ($op: String) { auditLog(operation: $op, first: 50) { edges { node { outcome } } } }', {
      op: operation,
    })
  ).data.auditLog.edges.map((e: { node: { outcome: string } }) => e.node.outcome);

describe('idempotency keys', () => {
  it('returns the first result to a retry with the same key and input, without acting again', async () => {
    const serviceId = await createService(one.gql, 'idem-retry');
    const input = { serviceId, name: 'Contoso', idempotencyKey: 'partner-contoso-1' };
    const first = (await one.gql(CREATE_PARTNER, { input })).data.createPartner;
    const retry = (await one.gql(CREATE_PARTNER, { input })).data.createPartner;
    expect(first.__typename).toBe('CreatePartnerSuccess');
    expect(retry).toEqual(first);
    expect(await partnerCount(serviceId)).toBe(1);
    expect(await auditOutcomes('createPartner')).toEqual(['REPLAYED', 'SUCCEEDED']);
  });

  it('refuses the same key with a different input, and does nothing', async () => {
    const serviceId = await createService(one.gql, 'idem-reused');
    const key = 'partner-key-reused';
    await one.gql(CREATE_PARTNER, { input: { serviceId, name: 'Contoso', idempotencyKey: key } });
    const other = (await one.gql(CREATE_PARTNER, { input: { serviceId, name: 'Fabrikam', idempotencyKey: key } })).data
      .createPartner;
    expect(other).toEqual({
      __typename: 'IdempotencyKeyReusedError',
      code: 'IDEMPOTENCY_KEY_REUSED',
      message:
        'This idempotency key was used in the last 24 hours for a different input (createPartner); use a new key for a new request',
      operation: 'createPartner',
    });
    expect(await partnerCount(serviceId)).toBe(1);
  });

  it('acts once when the same request is retried many times at once', async () => {
    const serviceId = await createService(one.gql, 'idem-parallel');
    const input = { serviceId, name: 'Contoso', idempotencyKey: 'parallel-1' };
    const results = await Promise.all(Array.from({ length: 8 }, () => one.gql(CREATE_PARTNER, { input })));
    const partners = results.map((r) => r.data.createPartner);
    expect(partners.map((p) => p.__typename)).toEqual(Array(8).fill('CreatePartnerSuccess'));
    expect(new Set(partners.map((p) => p.partner.id)).size).toBe(1);
    expect(await partnerCount(serviceId)).toBe(1);
  });

  it.skipIf(!postgres)('acts once when retries at once reach two instances', async () => {
    const serviceId = await createService(one.gql, 'idem-two-instances');
    const input = { serviceId, name: 'Contoso', idempotencyKey: 'two-instances-1' };
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? two! : one).gql(CREATE_PARTNER, { input })),
    );
    const partners = results.map((r) => r.data.createPartner);
    expect(partners.map((p) => p.__typename)).toEqual(Array(10).fill('CreatePartnerSuccess'));
    expect(new Set(partners.map((p) => p.partner.id)).size).toBe(1);
    expect(await partnerCount(serviceId)).toBe(1);
  });

  it('leaves the key free when the first request failed, so a corrected retry acts', async () => {
    const serviceId = await createService(one.gql, 'idem-failed');
    await mutate(one.gql, 'createPartner', { serviceId, name: 'Taken' });
    const key = 'partner-after-failure';
    const failed = await mutate(one.gql, 'createPartner', { serviceId, name: 'Taken', idempotencyKey: key });
    expect(failed.code).toBe('NAME_UNAVAILABLE');
    const corrected = await mutate(one.gql, 'createPartner', { serviceId, name: 'Other', idempotencyKey: key }, 'name');
    expect(corrected).toEqual({ name: 'Other' });
    expect(await partnerCount(serviceId)).toBe(2);
  });

  it('keeps a key 24 hours: after that, the same key acts again', async () => {
    const serviceId = await createService(one.gql, 'idem-expired');
    const input = { serviceId, name: 'Contoso', idempotencyKey: 'expiring-1' };
    await mutate(one.gql, 'createPartner', input);
    await one.app.runtime.database.db.execute(
      sql`update idempotency_keys set created_at = now() - interval '24 hours 1 minute' where key = 'expiring-1'`,
    );
    const again = await mutate(one.gql, 'createPartner', input);
    expect(again.code).toBe('NAME_UNAVAILABLE');
  });

  it('forgets keys past their 24 hours in the scheduler sweep', async () => {
    const serviceId = await createService(one.gql, 'idem-forgotten');
    await mutate(one.gql, 'createPartner', { serviceId, name: 'Old', idempotencyKey: 'forgotten-1' });
    await mutate(one.gql, 'createPartner', { serviceId, name: 'New', idempotencyKey: 'kept-1' });
    const db = one.app.runtime.database.db;
    await db.execute(
      sql`update idempotency_keys set created_at = now() - interval '25 hours' where key = 'forgotten-1'`,
    );
    const rows = (r: unknown) => ((r as { rows?: unknown[] }).rows ?? r) as { n: number }[];
    const expired = await db.execute(
      sql`select count(*)::int as n from idempotency_keys where created_at < now() - interval '24 hours'`,
    );
    expect(await forgetExpiredKeys(db)).toBe(rows(expired)[0]!.n); // this test's key, and any an earlier one aged

    const left = await db.execute(sql`select key from idempotency_keys where key in ('forgotten-1', 'kept-1')`);
    expect(((left as { rows?: unknown[] }).rows ?? left) as unknown[]).toEqual([{ key: 'kept-1' }]);
  });

  it('keeps each token its own keys', async () => {
    const token = (
      await one.gql(
        'mutation { createApiToken(input: { name: "idem-operator", role: OPERATOR }) { ... on CreateApiTokenSuccess { secret } } }',
      )
    ).data.createApiToken.secret as string;
    const serviceId = await createService(one.gql, 'idem-tokens');
    const key = 'shared-key';
    const mine = (
      await one.gql(CREATE_PARTNER, { input: { serviceId, name: 'Mine', idempotencyKey: key } }, ADMIN_TOKEN)
    ).data.createPartner;
    const theirs = (await one.gql(CREATE_PARTNER, { input: { serviceId, name: 'Theirs', idempotencyKey: key } }, token))
      .data.createPartner;
    expect([mine.partner.name, theirs.partner.name]).toEqual(['Mine', 'Theirs']);
  });

  it('refuses an empty or over-long key', async () => {
    const serviceId = await createService(one.gql, 'idem-long-key');
    const tooLong = await mutate(one.gql, 'createPartner', { serviceId, name: 'X', idempotencyKey: 'k'.repeat(201) });
    expect(tooLong.fields).toEqual([{ path: ['input', 'idempotencyKey'], message: 'must be 1–200 characters' }]);
    const empty = await mutate(one.gql, 'createPartner', { serviceId, name: 'X', idempotencyKey: '' });
    expect(empty.code).toBe('VALIDATION_FAILED');
    expect(await partnerCount(serviceId)).toBe(0);
  });

  it('answers a retried startService with its first success, where acting again would fail', async () => {
    const serviceId = await createService(one.gql, 'idem-start');
    await one.gql('mutation ($id: ID!) { stopService(input: { serviceId: $id }) { __typename } }', { id: serviceId });
    const START = `mutation ($id: ID!, $k: String) { startService(input: { serviceId: $id, idempotencyKey: $k }) {
      __typename ... on StartServiceSuccess { service { state } } ... on Error { code } } }`;
    const first = (await one.gql(START, { id: serviceId, k: 'start-1' })).data.startService;
    const retry = (await one.gql(START, { id: serviceId, k: 'start-1' })).data.startService;
    const unkeyed = (await one.gql(START, { id: serviceId })).data.startService;
    expect([first, retry, unkeyed]).toEqual([
      { __typename: 'StartServiceSuccess', service: { state: 'ACTIVE' } },
      { __typename: 'StartServiceSuccess', service: { state: 'ACTIVE' } },
      { __typename: 'InvalidStateError', code: 'INVALID_STATE' },
    ]);
  });
});
