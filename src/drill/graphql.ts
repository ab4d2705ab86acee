import { encodeGlobalID } from '@pothos/plugin-relay';
import { CategoryDiffType } from '../backup/diff-graphql.js';
import { EditionWithoutBackupError } from '../backup/rules.js';
import { InvalidStateError, NotFoundError } from '../errors.js';
import type { RestoreDrillFailure } from '../events/bus.js';
import { builder, connectionTypes, edgeType } from '../graphql/builder.js';
import { defineMutation } from '../graphql/mutation.js';
import { defineSubscription } from '../graphql/subscription.js';
import { Service } from '../service/graphql.js';
import { setRestoreDrill } from './service.js';
import type { drillStatuses } from './tables.js';

const RestoreDrillStatusEnum = builder.enumType('RestoreDrillStatus', {
  description: 'Where a restore drill is.',
  values: {
    RUNNING: { description: 'The latest backup is being restored into a scratch service and compared.' },
    PASSED: { description: 'The backup restored, and the restored service matches it item for item.' },
    FAILED: { description: 'The backup did not restore, or the restored service differs from it (see differences).' },
  } satisfies Record<(typeof drillStatuses)[number], unknown>,
});

export const RestoreDrill = builder.drizzleNode('restoreDrills', {
  name: 'RestoreDrill',
  description:
    "One proof that a service's latest backup restores: restored into a scratch service that never runs (SUSPENDED: no FTP pulls), compared with the backup, then removed.",
  id: { column: (d) => d.id },
  fields: (t) => ({
    status: t.field({ type: RestoreDrillStatusEnum, description: 'Outcome so far.', resolve: (d) => d.status }),
    backup: t.relation('backup', {
      nullable: true,
      description: 'The backup restored; null if the service had none, or it was deleted since.',
    }),
    differences: t.field({
      type: [CategoryDiffType],
      description:
        'What the restored service held that differs from the backup, per category (added: only in the restore; removed: missing from it). Empty when it matched.',
      resolve: (d) => d.differences,
    }),
    failureReason: t.exposeString('failureReason', { nullable: true, description: 'Why it FAILED.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', description: 'When it started.' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true, description: 'When it ended.' }),
    durationMs: t.exposeInt('durationMs', {
      nullable: true,
      description: 'How long the restore, comparison and removal took, in milliseconds.',
    }),
  }),
});

builder.drizzleObject('restoreDrillSchedules', {
  name: 'RestoreDrillSchedule',
  description: "When a service's latest backup is drilled.",
  fields: (t) => ({
    cron: t.exposeString('cron', { description: 'Cron expression in UTC (5 fields, or 6 with seconds first).' }),
    enabled: t.exposeBoolean('enabled', { description: 'Whether drills run.' }),
    nextRunAt: t.expose('nextRunAt', { type: 'DateTime', nullable: true, description: 'When the next drill runs.' }),
    lastRunAt: t.expose('lastRunAt', { type: 'DateTime', nullable: true, description: 'When the last drill started.' }),
  }),
});

builder.drizzleObjectFields(Service, (t) => ({
  restoreDrillSchedule: t.relation('restoreDrillSchedule', {
    nullable: true,
    description: 'When restore drills run, if configured (setRestoreDrill).',
  }),
  restoreDrills: t.relatedConnection(
    'restoreDrills',
    {
      description: 'The history of restore drills of this service, newest first.',
      totalCount: true,
      query: { orderBy: { startedAt: 'desc' } },
    },
    connectionTypes('RestoreDrill'),
    edgeType('RestoreDrill'),
  ),
}));

defineMutation('setRestoreDrill', {
  description:
    "Schedules restore drills of a service: on each due time its latest SUCCEEDED backup is restored into a scratch service that never runs, compared with the backup, and removed; the result is kept in restoreDrills, and a failure is published on restoreDrillFailed. The cron's runs must be as far apart as the edition's backup schedules.",
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError, EditionWithoutBackupError],
  input: (t) => ({
    serviceId: t.globalID({ for: Service, required: true, description: 'The service.' }),
    cron: t.string({ required: true, description: 'When to drill, e.g. "0 3 * * 0" (Sundays 03:00 UTC).' }),
    enabled: t.boolean({ description: 'Default true; false pauses the drills.' }),
  }),
  resolve: async (input, ctx) => {
    const row = await setRestoreDrill(ctx.runtime, { ...input, serviceId: input.serviceId.id });
    return { serviceId: row.serviceId };
  },
  success: (t) => ({
    schedule: t.drizzleField({
      type: 'restoreDrillSchedules',
      description: 'The drill schedule as it is now.',
      resolve: async (query, r, _a, ctx) =>
        (await ctx.db.query.restoreDrillSchedules.findFirst(query({ where: { serviceId: r.serviceId } })))!,
    }),
    service: t.field({
      type: Service,
      description: 'The service.',
      resolve: async (r, _a, ctx) => (await ctx.db.query.services.findFirst({ where: { id: r.serviceId } }))!,
    }),
  }),
});

const RestoreDrillFailedEvent = builder.objectRef<RestoreDrillFailure>('RestoreDrillFailedEvent').implement({
  description: 'A restore drill failed.',
  fields: (t) => ({
    drill: t.field({
      type: RestoreDrill,
      description: 'The drill, with its reason and differences.',
      resolve: async (e, _a, ctx) => (await ctx.db.query.restoreDrills.findFirst({ where: { id: e.drillId } }))!,
    }),
    serviceId: t.id({
      description: 'Global id of the drilled service.',
      resolve: (e) => encodeGlobalID('Service', e.serviceId),
    }),
    at: t.field({ type: 'DateTime', description: 'When it failed.', resolve: (e) => e.at }),
  }),
});

defineSubscription('restoreDrillFailed', {
  description: 'Failed restore drills of one service, or of all services when serviceId is left out.',
  type: RestoreDrillFailedEvent,
  scope: 'reader',
  id: { arg: 'serviceId', of: 'Service', required: false, description: 'Only this service.' },
  topic: 'restoreDrillFailed',
  idOf: (event) => event.serviceId,
});
