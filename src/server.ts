import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { GraphQLError, Kind, createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { Repeater, createLRUCache, createYoga, type Plugin } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { bearerToken, type Viewer } from './auth/rules.js';
import { authenticate } from './auth/service.js';
import { auditUnauthenticatedMutations } from './audit/unauthenticated.js';
import { DomainError } from './errors.js';
import type { Context } from './graphql/context.js';
import { exampleOperations } from './graphql/examples.js';
import { abuseLimitPlugins, tooComplex } from './graphql/limits.js';
import { schema } from './graphql/schema.js';
import { createMetrics } from './metrics.js';
import { describeError } from './log.js';
import type { Runtime } from './runtime.js';

const ENDPOINT = '/graphql';

/** Operations made only of introspection fields may run without a token: the schema is public. */
function isIntrospectionOnly(document: DocumentNode): boolean {
  return document.definitions.every(
    (d) =>
      d.kind !== Kind.OPERATION_DEFINITION ||
      d.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith('__')),
  );
}

const unauthenticated = () =>
  new GraphQLError('Authentication required: send "Authorization: Bearer <token>" (or connection_init { authorization } on WebSocket)', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  });

function requireViewer(): Plugin<Context> {
  const guard = ({ args, setResultAndStopExecution }: { args: ExecutionArgs; setResultAndStopExecution: (r: any) => void }) => {
    const ctx = args.contextValue as Context;
    if (!ctx.viewer && !isIntrospectionOnly(args.document)) setResultAndStopExecution({ errors: [unauthenticated()] });
  };
  return { onExecute: guard, onSubscribe: guard };
}

/** One log line per operation: who, what, how long; never its variables (they may hold secrets). */
function operationLog(rt: Runtime): Plugin<Context> {
  return {
    onExecute: ({ args }) => {
      const started = performance.now();
      const ctx = args.contextValue as Context;
      return {
        onExecuteDone: ({ result }) => {
          const errors = 'errors' in result ? (result.errors?.length ?? 0) : 0;
          rt.log.info(
            { requestId: ctx.requestId, operation: args.operationName ?? null, token: ctx.viewer?.tokenName ?? null, ms: Math.round(performance.now() - started), errors },
            'operation',
          );
        },
      };
    },
  };
}

/**
 * An SSE subscription ends as soon as the token that opened it is revoked. (A WebSocket is closed
 * whole, with 4403, by the server's own revocation listener: no per-subscription listener needed.)
 */
function endOnRevocation(rt: Runtime): Plugin<Context> {
  return {
    onSubscribe: ({ args }) => ({
      onSubscribeResult: ({ result, setResult }) => {
        const tokenId = (args.contextValue as Context).viewer?.tokenId;
        if (!tokenId || 'socket' in (args.contextValue as object) || !(Symbol.asyncIterator in result)) return;
        const source = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
        setResult(
          new Repeater(async (push, stop) => {
            const revocations = rt.events.subscribe('tokenRevoked');
            void (async () => {
              for await (const revoked of revocations) if (revoked.tokenId === tokenId) return stop();
            })();
            void stop.then(() => {
              void revocations.return();
              void source.return?.();
            });
            for (;;) {
              const next = await Promise.race([source.next(), stop.then(() => ({ done: true as const, value: undefined }))]);
              if (next.done) break;
              await push(next.value);
            }
            stop();
          }) as never,
        );
      },
    }),
  };
}

/**
 * Each subscription event is executed once per distinct operation (document, variables, role) and
 * the result shared by every subscriber of that operation: the event object is the same for all
 * of them (one bus message, one database read), so 1,000 subscribers of a plan cost one execution
 * per event, not 1,000. Results depend on nothing else of the context: scopes come from the role.
 */
function shareEventResults(): Plugin<Context> {
  const documents = new WeakMap<DocumentNode, number>();
  let count = 0;
  const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
  const subscribe = async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    if (!documents.has(args.document)) documents.set(args.document, ++count);
    const key = [documents.get(args.document), args.operationName, (args.contextValue as Context).viewer?.role, JSON.stringify(args.variableValues ?? {})].join('\n');
    const resultOf = (event: unknown) => {
      if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
      const byOperation = results.get(event) ?? new Map();
      results.set(event, byOperation);
      if (!byOperation.has(key)) byOperation.set(key, execute({ ...args, rootValue: event }));
      return byOperation.get(key)!;
    };
    const events = source[Symbol.asyncIterator]();
    // An iterator, not a generator: `return` must reach the source at once, not after its next event.
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]: () => mapped,
      next: async () => {
        const next = await events.next();
        return next.done ? next : { done: false, value: await resultOf(next.value) };
      },
      return: async () => (await events.return?.(), { done: true, value: undefined }),
      throw: async (error) => (await events.return?.(), Promise.reject(error)),
    };
    return mapped;
  };
  return { onSubscribe: ({ setSubscribeFn }) => setSubscribeFn(subscribe as never) };
}

/** Audit records of refused mutations are written before the response leaves. */
function awaitRefusalAudits(): Plugin<Context> {
  return {
    onExecute: ({ executeFn, setExecuteFn }) => {
      setExecuteFn(async (args) => {
        const result = await executeFn(args);
        await Promise.all((args.contextValue as Context).pendingAudit);
        return result;
      });
    },
  };
}

export interface HttpServer {
  server: Server;
  /** Serve GraphQL once the database is migrated; until then /readyz answers 503. */
  setReady(ready: boolean): void;
  /** Stop accepting, let in-flight requests finish (up to graceMs), close subscriptions. */
  close(graceMs?: number): Promise<void>;
}

export function createHttpServer(rt: Runtime): HttpServer {
  const { config, log } = rt;
  const metrics = createMetrics(rt);
  let ready = false;
  let closing = false;
  let inFlight = 0;

  const maskError = (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof DomainError) {
      return new GraphQLError(original.message, { extensions: { code: original.code } });
    }
    if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) return error;
    const correlationId = randomUUID();
    log.error({ correlationId, ...describeError(original) }, 'unexpected error');
    return new GraphQLError(`${message} Reference: ${correlationId}`, { extensions: { code: 'INTERNAL_SERVER_ERROR', correlationId } });
  };

  const yoga = createYoga<{ viewer?: Viewer | null; connectionParams?: Record<string, unknown> }, Context>({
    schema,
    graphqlEndpoint: ENDPOINT,
    landingPage: false,
    graphiql: config.graphiql ? { title: 'BizTalk Backup', subscriptionsProtocol: 'SSE', defaultQuery: exampleOperations } : false,
    // GraphiQL served from this server (no CDN): it works offline and behind firewalls. Loaded on first use.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    maskedErrors: { maskError, errorMessage: 'Internal error.' },
    // A cached document holds its AST, validation result and plans (tens of KB): clients send a few
    // hundred distinct operations at most, and a bounded cache keeps random documents from costing memory.
    parserAndValidationCache: { documentCache: createLRUCache({ max: 256 }), errorCache: createLRUCache({ max: 64 }) },
    // Off: yoga's own error lines quote the operation text, which may hold secrets; maskError logs instead.
    logging: false,
    plugins: [
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'authorization'] }),
      ...(config.graphiql ? [] : [useDisableIntrospection()]),
      ...abuseLimitPlugins(config.limits),
      auditUnauthenticatedMutations(),
      requireViewer(),
      endOnRevocation(rt),
      shareEventResults(),
      awaitRefusalAudits(),
      operationLog(rt),
      metrics.plugin,
    ],
    context: async (initial): Promise<Context> => {
      const viewer =
        initial.viewer !== undefined
          ? initial.viewer
          : await authenticate(rt, bearerToken(initial.request?.headers.get('authorization')));
      return { db: rt.database.db, runtime: rt, viewer, requestId: randomUUID(), pendingAudit: [] };
    },
  });

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') {
      const answer = (ok: boolean) => void res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
      if (!ready || closing) return answer(false);
      return void rt.database.ping().then(answer);
    }
    if (path === '/metrics') {
      return void metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
      );
    }
    if (path !== ENDPOINT) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    if (!ready) return void res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(JSON.stringify({ errors: [{ message: 'Starting up: database migrations are running', extensions: { code: 'NOT_READY' } }] }));
    const tooLarge = bodyTooLarge(req, config.limits.maxBodyBytes);
    if (tooLarge) {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      return void res.end(JSON.stringify({ errors: [{ message: tooLarge.message, extensions: { code: tooLarge.extensions.code } }] }));
    }
    if (closing) res.setHeader('connection', 'close');
    const streaming = (req.headers.accept ?? '').includes('text/event-stream');
    if (!streaming) inFlight++;
    res.once('close', () => {
      if (!streaming) inFlight--;
    });
    void yoga(req, res);
  });

  const wss = new WebSocketServer({ server, path: ENDPOINT, maxPayload: config.limits.maxBodyBytes });
  useServer<Record<string, unknown>, { viewer?: Viewer | null }>(
    {
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization;
        const viewer = await authenticate(rt, bearerToken(typeof header === 'string' ? header : null));
        if (!viewer) return false; // graphql-ws closes with 4403 Forbidden
        ctx.extra.viewer = viewer;
        if (viewer.tokenId) {
          const set = socketsByToken.get(viewer.tokenId) ?? new Set();
          socketsByToken.set(viewer.tokenId, set.add(ctx.extra.socket));
          ctx.extra.socket.once('close', () => {
            set.delete(ctx.extra.socket);
            if (!set.size) socketsByToken.delete(viewer.tokenId!);
          });
        }
        return true;
      },
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          viewer: ctx.extra.viewer,
        });
        let document: DocumentNode;
        try {
          document = parse(params.query);
          const errors = validate(schema, document);
          if (errors.length) return errors;
        } catch (error) {
          return [error instanceof GraphQLError ? error : tooComplex('The operation could not be parsed')];
        }
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
    },
    wss,
  );

  // A revoked token's open WebSocket subscriptions are closed at once (4403 Forbidden).
  const socketsByToken = new Map<string, Set<import('ws').WebSocket>>();
  const revocations = rt.events.subscribe('tokenRevoked');
  void (async () => {
    for await (const { tokenId } of revocations) {
      for (const socket of socketsByToken.get(tokenId) ?? []) socket.close(4403, 'Token revoked');
      socketsByToken.delete(tokenId);
    }
  })();

  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  return {
    server,
    setReady: (value) => {
      ready = value;
    },
    close: async (graceMs = 10_000) => {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
      server.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // What remains is idle keep-alive or long-lived (SSE) connections: end them.
      for (const socket of sockets) socket.destroy();
      wss.close();
      await revocations.return?.();
      await stopped;
      await yoga.dispose();
    },
  };
}

function bodyTooLarge(req: IncomingMessage, max: number): GraphQLError | null {
  if (req.method !== 'POST') return null;
  const length = req.headers['content-length'];
  if (length === undefined) return req.headers['transfer-encoding'] ? tooComplex('Send a Content-Length header with the request body', 411) : null;
  return Number(length) > max ? tooComplex(`The request body of ${length} bytes is larger than the limit of ${max} bytes (MAX_BODY_BYTES)`, 413) : null;
}
