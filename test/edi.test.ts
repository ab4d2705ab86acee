import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildService, mutate, type BuiltService } from './helpers/artifacts.js';
import { lifecycle } from './helpers/operations.js';
import { useTestServer } from './helpers/server.js';

const PROCESS = `mutation ($input: ProcessEdiMessageInput!) { processEdiMessage(input: $input) {
  __typename
  ... on ProcessEdiMessageSuccess { controlNumbers { interchange group transactionSet } mic { messageId algorithm value } batched agreement { controlNumbers { interchange } } }
  ... on Error { code message }
} }`;
const RELEASE = `mutation ($id: ID!) { releaseBatch(input: { agreementId: $id }) {
  __typename ... on ReleaseBatchSuccess { releasedMessageCount batch { messageCount } } ... on Error { code message }
} }`;

const file = useTestServer();
let built: BuiltService;
const gql = (q: string, v?: Record<string, unknown>) => file.server.gql(q, v);
const send = async (agreementId: string, payload?: string) =>
  (await gql(PROCESS, { input: { agreementId, payload } })).data.processEdiMessage;
const agreement = async (id: string) =>
  (
    await gql(
      'query ($id: ID!) { node(id: $id) { ... on Agreement { controlNumbers { interchange group transactionSet } controlNumbersHighWater { interchange } batch { messageCount } as2MicValues { totalCount edges { node { algorithm value } } } } } }',
      { id },
    )
  ).data.node;

beforeAll(async () => {
  built = await buildService(gql, 'edi-traffic');
});

describe('control numbers', () => {
  it('starts at 0 and issues 1, 2, 3 for the interchange, group and transaction set', async () => {
    expect((await agreement(built.agreements.edifact)).controlNumbers).toEqual({
      interchange: 0,
      group: 0,
      transactionSet: 0,
    });
    expect((await send(built.agreements.edifact)).controlNumbers).toEqual({
      interchange: 1,
      group: 1,
      transactionSet: 1,
    });
    expect((await send(built.agreements.edifact)).controlNumbers).toEqual({
      interchange: 2,
      group: 2,
      transactionSet: 2,
    });
    expect((await agreement(built.agreements.edifact)).controlNumbers).toEqual({
      interchange: 2,
      group: 2,
      transactionSet: 2,
    });
  });

  it('never issues one number twice to concurrent senders', async () => {
    const start = (await agreement(built.agreements.edifact)).controlNumbers.interchange;
    const results = await Promise.all(Array.from({ length: 40 }, () => send(built.agreements.edifact)));
    const issued = results.map((r) => r.controlNumbers.interchange).sort((a, b) => a - b);
    expect(issued).toEqual(Array.from({ length: 40 }, (_, i) => start + 1 + i));
    expect((await agreement(built.agreements.edifact)).controlNumbers.interchange).toBe(start + 40);
  });

  it('wraps from 999999999 to 1 as X12 allows, and continues from numbers an operator sets', async () => {
    const set = await mutate(
      gql,
      'updateAgreement',
      {
        agreementId: built.agreements.x12,
        controlNumbers: { interchange: 999999998, group: 5, transactionSet: 999999999 },
      },
      'controlNumbers { interchange group transactionSet }',
    );
    expect(set.controlNumbers).toEqual({ interchange: 999999998, group: 5, transactionSet: 999999999 });
    expect((await send(built.agreements.x12)).controlNumbers).toEqual({
      interchange: 999999999,
      group: 6,
      transactionSet: 1,
    });
    expect((await send(built.agreements.x12)).controlNumbers).toEqual({ interchange: 1, group: 7, transactionSet: 2 });
    await gql(RELEASE, { id: built.agreements.x12 });
  });

  it('refuses control numbers out of range with the field path', async () => {
    expect(
      await mutate(gql, 'updateAgreement', {
        agreementId: built.agreements.x12,
        controlNumbers: { interchange: 1000000000, group: 0, transactionSet: 0 },
      }),
    ).toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ path: ['input', 'controlNumbers', 'interchange'], message: 'must be from 0 to 999999999' }],
    });
  });

  it('keeps the high-water mark of the lineage when an operator sets numbers back, and after the service is deleted', async () => {
    const before = await agreement(built.agreements.edifact);
    await mutate(gql, 'updateAgreement', {
      agreementId: built.agreements.edifact,
      controlNumbers: { interchange: 0, group: 0, transactionSet: 0 },
    });
    const after = await agreement(built.agreements.edifact);
    expect(after.controlNumbers.interchange).toBe(0);
    expect(after.controlNumbersHighWater.interchange).toBe(before.controlNumbers.interchange);

    const other = await buildService(gql, 'edi-deleted');
    await send(other.agreements.as2);
    await send(other.agreements.as2);
    const lineage = (
      await gql('query ($id: ID!) { node(id: $id) { ... on Agreement { lineageId } } }', { id: other.agreements.as2 })
    ).data.node.lineageId;
    await gql(lifecycle('deleteService'), { id: other.serviceId });
    const rows = await file.server.app.runtime.database.db.execute<{ interchange: string | number }>(
      sql`select interchange from control_number_high_water where lineage_id = ${lineage}`,
    );
    expect(((rows as any).rows ?? rows).map((r: any) => Number(r.interchange))).toEqual([2]);
  });
});

describe('AS2 MIC values', () => {
  it('records the SHA-256 MIC of each AS2 message, and none for X12 or EDIFACT', async () => {
    const payload = 'Content-Type: application/edi-x12\r\n\r\nISA*00*...~';
    const result = await send(built.agreements.as2, payload);
    const expected = createHash('sha256').update(payload).digest('base64');
    expect(result.mic).toEqual({
      messageId: expect.stringMatching(/^<[0-9a-f-]{36}@edi-traffic\.biztalk\.windows\.net>$/),
      algorithm: 'sha-256',
      value: expected,
    });
    expect((await agreement(built.agreements.as2)).as2MicValues).toEqual({
      totalCount: 1,
      edges: [{ node: { algorithm: 'sha-256', value: expected } }],
    });
    expect((await send(built.agreements.edifact, 'UNB+UNOA')).mic).toBeNull();
  });
});

describe('batches', () => {
  it('holds messages of a batching agreement until the batch is released', async () => {
    for (let i = 0; i < 3; i++) expect((await send(built.agreements.x12, `ST*850*${i}`)).batched).toBe(true);
    expect((await agreement(built.agreements.x12)).batch).toEqual({ messageCount: 3 });
    const batches = await gql(
      'query ($id: ID!) { node(id: $id) { ... on Service { batches { agreementName messageCount } } } }',
      { id: built.serviceId },
    );
    expect(batches.data.node.batches).toEqual([{ agreementName: 'Contoso-Fabrikam X12', messageCount: 3 }]);
    expect((await gql(RELEASE, { id: built.agreements.x12 })).data.releaseBatch).toEqual({
      __typename: 'ReleaseBatchSuccess',
      releasedMessageCount: 3,
      batch: { messageCount: 0 },
    });
    expect((await agreement(built.agreements.x12)).batch).toEqual({ messageCount: 0 });
  });

  it('refuses to release the batch of an agreement that does not batch', async () => {
    expect((await gql(RELEASE, { id: built.agreements.as2 })).data.releaseBatch).toEqual({
      __typename: 'InvalidStateError',
      code: 'INVALID_STATE',
      message: 'Agreement "Contoso-Fabrikam AS2" does not batch',
    });
  });

  it('refuses to delete an agreement, or turn batching off, while its batch holds messages', async () => {
    await send(built.agreements.x12, 'ST*810');
    expect(await mutate(gql, 'deleteAgreement', { agreementId: built.agreements.x12 })).toMatchObject({
      code: 'INVALID_STATE',
      message: "The agreement's batch holds 1 message(s); release the batch first",
    });
    expect(await mutate(gql, 'updateAgreement', { agreementId: built.agreements.x12, batching: false })).toMatchObject({
      code: 'INVALID_STATE',
    });
    await gql(RELEASE, { id: built.agreements.x12 });
  });
});

describe('traffic and service state', () => {
  it('sends messages only through an ACTIVE service', async () => {
    const other = await buildService(gql, 'edi-stopped');
    await gql(lifecycle('stopService'), { id: other.serviceId });
    expect(await send(other.agreements.edifact)).toEqual({
      __typename: 'InvalidStateError',
      code: 'INVALID_STATE',
      message: 'Service "edi-stopped" is STOPPED; messages flow only through an ACTIVE service',
    });
    expect((await agreement(other.agreements.edifact)).controlNumbers.interchange).toBe(0);
  });
});

describe('audit', () => {
  it('records every message sent, once each, with its outcome: sent together, and refused by a stopped service', async () => {
    const other = await buildService(gql, 'edi-audited');
    const sent = await Promise.all([1, 2, 3].map(() => send(other.agreements.x12)));
    expect(sent.map((s) => s.controlNumbers.interchange).sort()).toEqual([1, 2, 3]);
    await gql(lifecycle('stopService'), { id: other.serviceId });
    expect((await send(other.agreements.x12)).code).toBe('INVALID_STATE');
    const log = await gql(
      '{ auditLog(operation: "processEdiMessage", first: 100) { edges { node { tokenName operation targetId outcome } } } }',
    );
    const mine = log.data.auditLog.edges
      .map((e: any) => e.node)
      .filter((n: any) => n.targetId === other.agreements.x12);
    const entry = (outcome: string) => ({
      tokenName: 'ADMIN_TOKEN',
      operation: 'processEdiMessage',
      targetId: other.agreements.x12,
      outcome,
    });
    expect(mine).toEqual([entry('INVALID_STATE'), entry('SUCCEEDED'), entry('SUCCEEDED'), entry('SUCCEEDED')]);
  });
});
