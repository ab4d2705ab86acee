import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { createYoga, type Plugin } from 'graphql-yoga';
import { bearerToken, type Viewer } from '../auth/rules.js';
import { authenticate } from '../auth/service.js';
import { DomainError } from '../errors.js';
import type { Context } from '../graphql/context.js';
import { exampleOperations } from '../graphql/examples.js';
import { abuseLimitPlugins } from '../graphql/limits.js';
import { schema } from '../graphql/schema.js';
import { shareEventResults } from '../graphql/subscription.js';
import { describeError } from '../log.js';
import type { Runtime } from '../runtime.js';
import { documentCaches } from './document-cache.js';
import { awaitRefusalAudits, limitQueryText, operationLog, requireViewer } from './plugins.js';
import { auditUnauthenticatedMutations } from '../audit/unauthenticated.js';
import { endOnRevocation } from './revocation.js';

/** The path of GraphQL over HTTP, SSE and WebSocket. */
export const ENDPOINT = '/graphql';

/** What a transport hands the endpoint: a viewer already authenticated (WebSocket), or none yet (HTTP: its header is read). */
export interface TransportContext {
  viewer?: Viewer | null;
  connectionParams?: Record<string, unknown>;
}

/**
 * An error for the client: a domain error keeps its message and code; anything unexpected is logged
 * under a correlation id and answered with that id only.
 */
function maskError(rt: Runtime) {
  return (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof DomainError) {
      return new GraphQLError(original.message, { extensions: { code: original.code } });
    }
    if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) return error;
    const correlationId = randomUUID();
    rt.log.error({ correlationId, ...describeError(original) }, 'unexpected error');
    return new GraphQLError(`${message} Reference: ${correlationId}`, {
      extensions: { code: 'INTERNAL_SERVER_ERROR', correlationId },
    });
  };
}

/** The GraphQL endpoint (yoga): the schema, GraphiQL, the plugins every operation passes, and its context. */
export function createGraphQLEndpoint(rt: Runtime, metricsPlugin: Plugin) {
  const { config } = rt;
  return createYoga<TransportContext, Context>({
    schema,
    graphqlEndpoint: ENDPOINT,
    landingPage: false,
    // Browsers on other origins get credentials only from the CORS_ORIGINS allow-list; none by default.
    cors: config.corsOrigins.length ? { origin: config.corsOrigins, credentials: true } : false,
    graphiql: config.graphiql
      ? { title: 'BizTalk Backup', subscriptionsProtocol: 'SSE', defaultQuery: exampleOperations }
      : false,
    // GraphiQL served from this server (no CDN): it works offline and behind firewalls. Loaded on first use.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    maskedErrors: { maskError: maskError(rt), errorMessage: 'Internal error.' },
    // A cached document holds its text, AST, validation result and plans: clients send a few hundred
    // distinct short operations at most; a cache bounded in bytes, keeping no long text, keeps random
    // documents from costing memory (issue 16).
    parserAndValidationCache: documentCaches(),
    // Off: routes.ts has already refused a body over MAX_BODY_BYTES or without a Content-Length (and
    // node:http reads no more than that length); yoga's own check copied every request and piped its
    // body through a TransformStream (some 5 % of a small read's CPU).
    maxRequestBodySize: false,
    // Off: yoga's own error lines quote the operation text, which may hold secrets; maskError logs instead.
    logging: false,
    plugins: [
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'authorization'] }),
      limitQueryText(config.limits.maxQueryBytes),
      ...(config.graphiql ? [] : [useDisableIntrospection()]),
      ...abuseLimitPlugins(config.limits),
      // Before requireViewer: operations refused for want of a token are counted too (as unauthenticated).
      metricsPlugin,
      auditUnauthenticatedMutations(),
      requireViewer(),
      endOnRevocation(rt),
      shareEventResults(),
      awaitRefusalAudits(),
      operationLog(rt),
    ],
    context: async (initial): Promise<Context> => {
      const viewer =
        initial.viewer !== undefined
          ? initial.viewer
          : await authenticate(rt, bearerToken(initial.request?.headers.get('authorization')));
      return { db: rt.database.db, runtime: rt, viewer, requestId: randomUUID(), pendingAudit: [] };
    },
  });
}

export type GraphQLEndpoint = ReturnType<typeof createGraphQLEndpoint>;
