import SchemaBuilder, { type ObjectParam } from '@pothos/core';
import DrizzlePlugin from '@pothos/plugin-drizzle';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import GlobalIdProblemsPlugin from './global-ids.js';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { GraphQLError, Kind, getArgumentValues, type GraphQLResolveInfo } from 'graphql';
import { recordRefusal } from '../audit/service.js';
import { hasRole } from '../auth/rules.js';
import { ForbiddenError } from '../errors.js';
import { relations } from '../db/schema.js';
import type { Context } from './context.js';
import InputHygienePlugin from './input-hygiene.js';

/**
 * A mutation's `input` as the caller sent it (global ids as strings), for the audit log: read from
 * the operation itself, since the field's arguments may already hold decoded ids.
 */
export function sentInput(info: GraphQLResolveInfo): Record<string, unknown> | null {
  const field = info.parentType.getFields()[info.fieldName];
  const node = info.fieldNodes[0];
  if (!field || !node) return null;
  const input: unknown = getArgumentValues(field, node, info.variableValues).input;
  return typeof input === 'object' && input !== null ? { ...input } : null;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The builder's types: what every field's context, scopes, scalars and connections look like. */
interface BuilderTypes {
  Context: Context;
  DrizzleRelations: typeof relations;
  DefaultFieldNullability: false;
  AuthScopes: { reader: boolean; operator: boolean; admin: boolean };
  /** A connection's totalCount, where it has one (see sharedConnection). */
  Connection: { totalCount?: number | (() => number | Promise<number>) };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    ID: { Input: string; Output: string | number };
    JSON: { Input: unknown; Output: unknown };
  };
}

/** BuilderTypes with Pothos' defaults filled in: the `Types` every builder generic takes. */
export type Types = PothosSchemaTypes.ExtendDefaultTypes<BuilderTypes>;

/** THE schema builder: every slice registers its types on it. */
export const builder = new SchemaBuilder<BuilderTypes>({
  // Errors before ScopeAuth: a refused mutation then returns the FORBIDDEN error type of its result union.
  // InputHygiene checks the arguments as sent, before the relay plugin decodes ids; GlobalIdProblems
  // keeps unusable ids for the field to answer after auth (see global-ids.ts).
  plugins: [ErrorsPlugin, ScopeAuthPlugin, InputHygienePlugin, RelayPlugin, DrizzlePlugin, GlobalIdProblemsPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      reader: hasRole(ctx.viewer, 'READER'),
      operator: hasRole(ctx.viewer, 'OPERATOR'),
      admin: hasRole(ctx.viewer, 'ADMIN'),
    }),
    unauthorizedError: (_parent, ctx, info) => {
      const message = `Your token's role may not use ${info.parentType.name}.${info.fieldName}`;
      if (info.parentType.name !== 'Mutation') return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
      ctx.pendingAudit.push(recordRefusal(ctx.db, ctx.viewer, info.fieldName, sentInput(info)));
      return new ForbiddenError(message);
    },
  },
  errors: {
    directResult: true,
    defaultUnionOptions: { name: ({ fieldName }) => `${capitalize(fieldName)}Result` },
    defaultResultOptions: { name: ({ fieldName }) => `${capitalize(fieldName)}Success` },
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: {
      description: 'Fetches any object by its global id (services, backups, restore plans, artifacts).',
    },
    nodesQueryOptions: false,
    nodeTypeOptions: { description: 'An object with a global id that `node(id:)` can fetch again.' },
    pageInfoTypeOptions: { description: 'Where a page of a connection sits in the whole list.' },
  },
  drizzle: { client: (ctx) => ctx.db, getTableConfig, relations },
});

builder.queryType({ description: 'Reads: services, backups, restore plans and reference data.' });
builder.mutationType({
  description:
    'Changes: every mutation takes one `input` and returns a result union of a success type and typed errors.',
});
builder.subscriptionType({ description: 'Live feeds over graphql-ws (WebSocket) or server-sent events.' });

builder.scalarType('DateTime', {
  description: 'A moment in time as an ISO-8601 string in UTC, e.g. 2026-11-27T10:00:00.000Z.',
  serialize: (value) => new Date(value).toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
  parseLiteral: (ast) => {
    const date = ast.kind === Kind.STRING ? new Date(ast.value) : new Date(NaN);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
});

/** Names of a connection's types: `<Node>Connection` and `<Node>Edge`. */
export function connectionTypes(node: string) {
  return { name: `${node}Connection` };
}

export function edgeType(node: string) {
  return { name: `${node}Edge` };
}

/**
 * The one `<Node>Connection` (and `<Node>Edge`) of a node type that several fields list, each with a
 * totalCount: a drizzle connection hands its count over as a function, a related connection as a number.
 */
export function sharedConnection<Node extends ObjectParam<Types>>(type: Node, node: string) {
  return builder.connectionObject(
    {
      type,
      ...connectionTypes(node),
      fields: (t) => ({
        totalCount: t.int({
          // Tells a drizzle connection that asks only for totalCount that it need not load the rows.
          extensions: { pothosDrizzleTotalCount: true },
          resolve: async (connection) => {
            const count = connection.totalCount;
            return typeof count === 'function' ? count() : (count ?? 0);
          },
        }),
      }),
    },
    edgeType(node),
  );
}

builder.scalarType('JSON', {
  description: 'Free-form JSON (objects, arrays, strings, numbers, booleans, null), e.g. a bridge configuration.',
  serialize: (value) => value,
  parseValue: (value) => value,
});
