import type { IncomingMessage, RequestListener } from 'node:http';
import type { GraphQLError } from 'graphql';
import { tooComplex } from '../graphql/limits.js';
import type { createMetrics } from '../metrics.js';
import type { Runtime } from '../runtime.js';
import { ENDPOINT, type GraphQLEndpoint } from './endpoint.js';

/** Where the server is in its life, as the routes and the shutdown see it. */
export interface ServingState {
  /** The database is migrated: GraphQL is served and /readyz says ready. */
  ready: boolean;
  /** Shutting down: /readyz says not ready and responses close their connection. */
  closing: boolean;
  /** GraphQL requests being answered (not SSE streams): the shutdown lets them finish. */
  inFlight: number;
}

type Metrics = ReturnType<typeof createMetrics>;

/** The HTTP routes: /healthz, /readyz, /metrics, and GraphQL at ENDPOINT once ready; anything else is 404. */
export function routeRequests(
  rt: Runtime,
  endpoint: GraphQLEndpoint,
  metrics: Metrics,
  state: ServingState,
): RequestListener {
  const { config } = rt;
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') {
      const answer = (ok: boolean) =>
        void res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
      if (!state.ready || state.closing) return answer(false);
      return void rt.database.ping().then(answer);
    }
    if (path === '/metrics') {
      return void metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
      );
    }
    if (path !== ENDPOINT) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    if (!state.ready)
      return void res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(
        JSON.stringify({
          errors: [{ message: 'Starting up: database migrations are running', extensions: { code: 'NOT_READY' } }],
        }),
      );
    const tooLarge = bodyTooLarge(req, config.limits.maxBodyBytes);
    if (tooLarge) {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      return void res.end(
        JSON.stringify({ errors: [{ message: tooLarge.message, extensions: { code: tooLarge.extensions.code } }] }),
      );
    }
    if (state.closing) res.setHeader('connection', 'close');
    const streaming = (req.headers.accept ?? '').includes('text/event-stream');
    if (!streaming) state.inFlight++;
    res.once('close', () => {
      if (!streaming) state.inFlight--;
    });
    void endpoint(req, res);
  };
}

/** A request body refused before it is read: over MAX_BODY_BYTES (413), or of unknown length (411). */
function bodyTooLarge(req: IncomingMessage, max: number): GraphQLError | null {
  if (req.method !== 'POST') return null;
  const length = req.headers['content-length'];
  if (length === undefined)
    return req.headers['transfer-encoding']
      ? tooComplex('Send a Content-Length header with the request body', 411)
      : null;
  return Number(length) > max
    ? tooComplex(`The request body of ${length} bytes is larger than the limit of ${max} bytes (MAX_BODY_BYTES)`, 413)
    : null;
}
