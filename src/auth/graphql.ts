import { NameUnavailableError, NotFoundError } from '../errors.js';
import { builder, connectionTypes, edgeType } from '../graphql/builder.js';
import { defineMutation } from '../graphql/mutation.js';
import type { roles, Viewer } from './rules.js';
import * as auth from './service.js';
import { apiTokens } from './tables.js';

const RoleEnum = builder.enumType('Role', {
  description: 'What a token may do. Each role includes the ones before it.',
  values: {
    READER: { description: 'Queries and subscriptions.' },
    OPERATOR: { description: 'Also artifacts, traffic, backups, restores and the service lifecycle except delete.' },
    ADMIN: { description: 'Also service settings (secrets), deleteService, API tokens and the audit log.' },
  } satisfies Record<(typeof roles)[number], unknown>,
});

const ApiToken = builder.drizzleNode('apiTokens', {
  name: 'ApiToken',
  description: 'An API token. Its secret is shown once, when it is created; only a hash is stored.',
  // ADMIN only wherever it is reached (node(id:) too), as apiTokens is.
  authScopes: { admin: true },
  id: { column: (t) => t.id },
  select: { columns: { id: true, name: true, role: true, createdAt: true, revokedAt: true } },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Name, unique; it identifies the caller in the audit log.' }),
    role: t.field({ type: RoleEnum, description: 'Role.', resolve: (r) => r.role }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    revokedAt: t.expose('revokedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When it was revoked; null while it works.',
    }),
  }),
});

const ViewerType = builder.objectRef<Viewer>('Viewer').implement({
  description: 'Who is calling.',
  fields: (t) => ({
    tokenName: t.exposeString('tokenName', {
      description: 'Name of the token used (ADMIN_TOKEN for the bootstrap token from the environment).',
    }),
    role: t.field({ type: RoleEnum, description: "The token's role.", resolve: (v) => v.role }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerType,
    description: "The caller's token name and role.",
    authScopes: { reader: true },
    resolve: (_r, _a, ctx) => ctx.viewer!,
  }),
  apiTokens: t.drizzleConnection(
    {
      type: 'apiTokens',
      nullable: true,
      description: 'API tokens, newest first (never their secrets). ADMIN only; null with a FORBIDDEN error otherwise.',
      authScopes: { admin: true },
      totalCount: (_p, _a, ctx) => ctx.db.$count(apiTokens),
      resolve: (query, _p, _a, ctx) => ctx.db.query.apiTokens.findMany(query({ orderBy: { createdAt: 'desc' } })),
    },
    connectionTypes('ApiToken'),
    edgeType('ApiToken'),
  ),
}));

// Not idempotent: a replay would have to keep the secret, which is shown once and stored only hashed.
defineMutation('createApiToken', {
  description: 'Creates an API token (ADMIN only). The success carries its secret: shown this once, never again.',
  scope: 'admin',
  errors: [NameUnavailableError],
  input: (t) => ({
    name: t.string({ required: true, description: 'Name, e.g. "ci-pipeline".' }),
    role: t.field({ type: RoleEnum, required: true, description: 'Role.' }),
  }),
  resolve: (input, ctx) => auth.createApiToken(ctx.runtime, input.name, input.role),
  success: (t) => ({
    token: t.field({ type: ApiToken, description: 'The token.', resolve: (r) => r.token }),
    secret: t.string({
      description: 'The bearer token to use: Authorization: Bearer <secret>. Shown once.',
      resolve: (r) => r.secret,
    }),
  }),
});

defineMutation('revokeApiToken', {
  description: 'Revokes an API token (ADMIN only): it stops working at once and its open subscriptions are closed.',
  scope: 'admin',
  errors: [NotFoundError],
  input: (t) => ({ tokenId: t.globalID({ for: ApiToken, required: true, description: 'The token.' }) }),
  resolve: async (input, ctx) => ({ token: await auth.revokeApiToken(ctx.runtime, input.tokenId.id) }),
  success: (t) => ({ token: t.field({ type: ApiToken, description: 'The revoked token.', resolve: (r) => r.token }) }),
});
