import type { Server } from 'node:http';
import { GraphQLError, getOperationAST, type DocumentNode, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
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
  const subscriptions = countSubscriptions(
    rt.config.limits.maxSubscriptionsPerConnection,
    rt.config.limits.maxSubscriptionsPerToken,
  );
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
        if (getOperationAST(document, params.operationName)?.operation === 'subscription') {
          const refused = subscriptions.open(ctx.extra.socket, _id, ctx.extra.viewer);
          if (refused) return [refused];
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
      onComplete: (ctx, id) => subscriptions.close(ctx.extra.socket, id),
      execute: (args) => enveloped(args).execute(args),
      subscribe: (args) => enveloped(args).subscribe(args),
    },
    wss,
  );
  return wss;
}

/**
 * Open subscriptions, capped per WebSocket (MAX_SUBSCRIPTIONS_PER_CONNECTION) and per token over all
 * its WebSockets on this instance (MAX_SUBSCRIPTIONS_PER_TOKEN): each one holds memory and a listener.
 */
function countSubscriptions(perConnection: number, perToken: number) {
  const bySocket = new Map<WebSocket, { token: string; ids: Set<string> }>();
  const byToken = new Map<string, number>();
  const release = (token: string, n: number) => {
    const left = (byToken.get(token) ?? 0) - n;
    if (left > 0) byToken.set(token, left);
    else byToken.delete(token);
  };
  const limit = (message: string) => new GraphQLError(message, { extensions: { code: 'LIMIT_EXCEEDED' } });
  return {
    /** Counts a new subscription, or says why it is refused. */
    open(socket: WebSocket, id: string, viewer: Viewer | null | undefined): GraphQLError | null {
      const token = viewer ? (viewer.tokenId ?? viewer.tokenName) : 'none';
      let open = bySocket.get(socket);
      if (!open) {
        const entry = { token, ids: new Set<string>() };
        bySocket.set(socket, entry);
        socket.once('close', () => {
          bySocket.delete(socket);
          release(entry.token, entry.ids.size);
        });
        open = entry;
      }
      if (open.ids.size >= perConnection)
        return limit(
          `This connection has ${open.ids.size} subscriptions open, the limit (MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one first`,
        );
      if ((byToken.get(token) ?? 0) >= perToken)
        return limit(
          `This token has ${byToken.get(token)} subscriptions open, the limit (MAX_SUBSCRIPTIONS_PER_TOKEN); complete one first`,
        );
      open.ids.add(id);
      byToken.set(token, (byToken.get(token) ?? 0) + 1);
      return null;
    },
    close(socket: WebSocket, id: string): void {
      const open = bySocket.get(socket);
      if (open?.ids.delete(id)) release(open.token, 1);
    },
  };
}
