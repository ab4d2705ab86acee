import { and, eq } from 'drizzle-orm';
import { builder, connectionTypes, edgeType } from '../graphql/builder.js';
import { Service } from '../service/graphql.js';
import { auditLog } from './tables.js';

builder.drizzleObject('auditLog', {
  name: 'AuditEntry',
  description:
    'One mutation, allowed or refused: who, what, on which object, with what outcome. Inputs are never recorded.',
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime', description: 'When.' }),
    tokenName: t.exposeString('tokenName', { description: 'Name of the token used.' }),
    operation: t.exposeString('operation', { description: 'The mutation, e.g. deleteService.' }),
    targetId: t.exposeString('targetId', { nullable: true, description: 'Global id of the object it named.' }),
    outcome: t.exposeString('outcome', {
      description: 'SUCCEEDED, or the error code it ended with (e.g. FORBIDDEN, INVALID_STATE).',
    }),
  }),
});

builder.queryField('auditLog', (t) =>
  t.drizzleConnection(
    {
      type: 'auditLog',
      nullable: true,
      description: 'The audit log, newest first. ADMIN only; null with a FORBIDDEN error otherwise.',
      authScopes: { admin: true },
      args: {
        serviceId: t.arg.globalID({ for: Service, required: false, description: 'Only entries about this service.' }),
        operation: t.arg.string({ required: false, description: 'Only this mutation, e.g. deleteService.' }),
      },
      totalCount: (_p, args, ctx) =>
        ctx.db.$count(
          auditLog,
          and(
            args.serviceId ? eq(auditLog.serviceId, args.serviceId.id) : undefined,
            args.operation ? eq(auditLog.operation, args.operation) : undefined,
          ),
        ),
      resolve: (query, _p, args, ctx) =>
        ctx.db.query.auditLog.findMany(
          query({
            where: {
              ...(args.serviceId ? { serviceId: args.serviceId.id } : {}),
              ...(args.operation ? { operation: args.operation } : {}),
            },
            orderBy: { at: 'desc' },
          }),
        ),
    },
    connectionTypes('AuditEntry'),
    edgeType('AuditEntry'),
  ),
);
