import type { Server } from 'node:http';
import { GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { bearerToken, type Viewer } from '../auth/rules.js';
import { authenticate } from '../auth/service.js';
import { tooComplex } from '../graphql/limits.js';
import type { Runtime } from '../runtime.js';
import { ENDPOINT, type GraphQLEndpoint } from './endpoint.js';
import { queryTextTooLong } from './plugins.js';
import type { RevokedSockets } from './revocation.js';

/** The endpoint's execute and subscribe, with its plugins, carried to graphql-ws in the operation's rootValue. */
type Enveloped = Pick<ReturnType<GraphQLEndpoint['getEnveloped']>, 'execute' | 'subscribe'>;
const enveloped = (args: ExecutionArgs) => args.rootValue as Enveloped;

/**
 * GraphQL over WebSocket (graphql-ws) at ENDPOINT on the same server: the token is checked once, at
 * connection_init; each operation then runs through the endpoint's plugins like an HTTP one.
 */
export function serveWebSocket(
  rt: Runtime,
  server: Server,
  endpoint: GraphQLEndpoint,
  revokedSockets: RevokedSockets,
): WebSocketServer {
  const wss = new WebSocketServer({ server, path: ENDPOINT, maxPayload: rt.config.limits.maxBodyBytes });
  useServer<Record<string, unknown>, { viewer?: Viewer | null }>(
    {
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization;
        const viewer = await authenticate(rt, bearerToken(typeof header === 'string' ? header : null));
        if (!viewer) return false; // graphql-ws closes with 4403 Forbidden
        ctx.extra.viewer = viewer;
        if (viewer.tokenId) revokedSockets.add(viewer.tokenId, ctx.extra.socket);
        return true;
      },
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = endpoint.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          viewer: ctx.extra.viewer,
        });
        const tooLong = queryTextTooLong(params.query, rt.config.limits.maxQueryBytes);
        if (tooLong) return [tooLong];
        let document: DocumentNode;
        try {
          document = parse(params.query);
          const errors = validate(schema, document);
          if (errors.length) return errors;
        } catch (error) {
          return [error instanceof GraphQLError ? error : tooComplex('The operation could not be parsed')];
        }
        const rootValue: Enveloped = { execute, subscribe };
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue,
        };
      },
      execute: (args) => enveloped(args).execute(args),
      subscribe: (args) => enveloped(args).subscribe(args),
    },
    wss,
  );
  return wss;
}
