import { encodeGlobalID } from '@pothos/plugin-relay';
import { sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import * as artifact from '../artifact/graphql.js';
import { InvalidStateError, NotFoundError } from '../errors.js';
import { builder, connectionTypes, edgeType } from '../graphql/builder.js';
import { defineMutation } from '../graphql/mutation.js';
import { Service } from '../service/graphql.js';
import { controlNumber } from './rules.js';
import * as edi from './service.js';

type Positions = { interchange: number; group: number; transactionSet: number };

const ControlNumbers = builder.objectRef<Positions>('ControlNumbers').implement({
  description: 'Last control numbers issued on an agreement (0 before any message); each wraps from 999999999 to 1.',
  fields: (t) => ({
    interchange: t.int({
      description: 'Interchange control number (X12 ISA13, EDIFACT UNB5).',
      resolve: (c) => controlNumber(c.interchange),
    }),
    group: t.int({
      description: 'Group control number (X12 GS06, EDIFACT UNG5).',
      resolve: (c) => controlNumber(c.group),
    }),
    transactionSet: t.int({
      description: 'Transaction set control number (X12 ST02, EDIFACT UNH1).',
      resolve: (c) => controlNumber(c.transactionSet),
    }),
  }),
});

interface BatchShape {
  agreementId: string;
  agreementName?: string;
  messageCount: number;
}

const Batch = builder.objectRef<BatchShape>('Batch').implement({
  description: "An agreement's batch: messages waiting to be released. Batch messages are never part of a backup.",
  fields: (t) => ({
    id: t.id({
      description: 'Id of the batch (one per batching agreement).',
      resolve: (b) => encodeGlobalID('Batch', b.agreementId),
    }),
    agreementId: t.id({
      description: 'Global id of the agreement that owns the batch.',
      resolve: (b) => encodeGlobalID('Agreement', b.agreementId),
    }),
    agreementName: t.string({
      nullable: true,
      description: 'Name of that agreement.',
      resolve: (b) => b.agreementName ?? null,
    }),
    messageCount: t.int({ description: 'Messages waiting in the batch.', resolve: (b) => b.messageCount }),
  }),
});

builder.drizzleObject('as2MicValues', {
  name: 'As2MicValue',
  description: 'The Message Integrity Check of one AS2 message, kept to verify its receipt (MDN).',
  fields: (t) => ({
    messageId: t.exposeString('messageId', { description: 'AS2 Message-ID.' }),
    algorithm: t.exposeString('algorithm', { description: 'Digest algorithm, e.g. sha-256.' }),
    value: t.exposeString('value', { description: 'The MIC, base64.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the message was sent.' }),
  }),
});

const batchCount = (agreements: { id: PgColumn }) =>
  sql<number>`(select count(*)::int from batch_messages where batch_messages.agreement_id = ${agreements.id})`;

builder.drizzleObjectFields(artifact.Agreement, (t) => ({
  controlNumbers: t.field({
    type: ControlNumbers,
    description: 'Last interchange, group and transaction set numbers issued.',
    select: { with: { controlNumbers: { columns: { interchange: true, group: true, transactionSet: true } } } },
    resolve: (a) => a.controlNumbers,
  }),
  controlNumbersHighWater: t.field({
    type: ControlNumbers,
    description:
      "Highest numbers ever issued along this agreement's lineage (all its restores included); kept outside backups and after deletion, so a restore can continue past them.",
    select: { with: { highWater: { columns: { interchange: true, group: true, transactionSet: true } } } },
    resolve: (a) => a.highWater ?? { interchange: 0, group: 0, transactionSet: 0 },
  }),
  batch: t.field({
    type: Batch,
    nullable: true,
    description: 'The batch, when the agreement batches.',
    select: { columns: { id: true, batching: true }, extras: { batchMessageCount: batchCount } },
    resolve: (a) => (a.batching ? { agreementId: a.id, messageCount: a.batchMessageCount } : null),
  }),
  as2MicValues: t.relatedConnection(
    'micValues',
    {
      description: 'MIC values of the AS2 messages sent, newest first.',
      totalCount: true,
      query: { orderBy: { createdAt: 'desc' } },
    },
    connectionTypes('As2MicValue'),
    edgeType('As2MicValue'),
  ),
}));

builder.drizzleObjectFields(Service, (t) => ({
  batches: t.field({
    type: [Batch],
    description: 'The batch of every batching agreement, with how many messages wait in it.',
    select: {
      with: {
        agreements: {
          columns: { id: true, name: true },
          where: { batching: true },
          orderBy: { name: 'asc' },
          extras: { batchMessageCount: batchCount },
        },
      },
    },
    resolve: (s) =>
      s.agreements.map((a) => ({ agreementId: a.id, agreementName: a.name, messageCount: a.batchMessageCount })),
  }),
}));

defineMutation('processEdiMessage', {
  idempotent: true,
  description:
    "Sends one message through an agreement: issues its next control numbers, records an AS2 MIC, and adds it to the agreement's batch when it batches. The service must be ACTIVE.",
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError],
  input: (t) => ({
    agreementId: t.globalID({ for: artifact.Agreement, required: true, description: 'The agreement.' }),
    payload: t.string({ description: 'The message (at most 1 MiB); empty when left out.' }),
  }),
  resolve: async (input, ctx) =>
    edi.processEdiMessage(ctx.runtime, input.agreementId.id, input.payload ?? '', ctx.audit),
  success: (t) => ({
    agreement: t.drizzleField({
      type: 'agreements',
      description: 'The agreement after the message.',
      resolve: async (query, r, _args, ctx) =>
        (await ctx.db.query.agreements.findFirst(query({ where: { id: r.agreementId } })))!,
    }),
    controlNumbers: t.field({
      type: ControlNumbers,
      description: 'The control numbers this message was sent with.',
      resolve: (r) => r.controlNumbers,
    }),
    mic: t.field({
      type: builder.objectRef<NonNullable<edi.ProcessedMessage['mic']>>('As2Mic').implement({
        description: 'The MIC recorded for an AS2 message.',
        fields: (f) => ({
          messageId: f.exposeString('messageId', { description: 'AS2 Message-ID.' }),
          algorithm: f.exposeString('algorithm', { description: 'Digest algorithm.' }),
          value: f.exposeString('value', { description: 'The MIC, base64.' }),
        }),
      }),
      nullable: true,
      description: 'The MIC recorded, for an AS2 agreement.',
      resolve: (r) => r.mic,
    }),
    batched: t.boolean({
      description: "Whether the message waits in the agreement's batch.",
      resolve: (r) => r.batched,
    }),
  }),
});

defineMutation('releaseBatch', {
  idempotent: true,
  description:
    "Processes the messages waiting in an agreement's batch and empties it. Do this before a backup: batch messages are never backed up.",
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError],
  input: (t) => ({
    agreementId: t.globalID({ for: artifact.Agreement, required: true, description: 'The batching agreement.' }),
  }),
  resolve: async (input, ctx) => {
    const agreementId = input.agreementId.id;
    return { agreementId, releasedMessageCount: await edi.releaseBatch(ctx.runtime, agreementId) };
  },
  success: (t) => ({
    releasedMessageCount: t.int({ description: 'Messages released.', resolve: (r) => r.releasedMessageCount }),
    batch: t.field({
      type: Batch,
      description: 'The batch, now empty.',
      resolve: (r) => ({ agreementId: r.agreementId, messageCount: 0 }),
    }),
  }),
});
