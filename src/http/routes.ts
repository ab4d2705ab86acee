import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { GraphQLError } from 'graphql';
import { bearerToken, type Viewer } from '../auth/rules.js';
import { authenticate } from '../auth/service.js';
import { hashToken, sameHash } from '../crypto.js';
import { tooComplex } from '../graphql/limits.js';
import { describeError } from '../log.js';
import type { createMetrics } from '../metrics.js';
import type { Runtime } from '../runtime.js';
import { serveConsole } from './console.js';
import { ENDPOINT, type GraphQLEndpoint } from './endpoint.js';
import { createRateLimiter } from './rate-limit.js';

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

/** The HTTP routes: /healthz, /readyz, /metrics, the console at /, and GraphQL at ENDPOINT once ready; anything else is 404. */
export function routeRequests(
  rt: Runtime,
  endpoint: GraphQLEndpoint,
  metrics: Metrics,
  state: ServingState,
): RequestListener {
  const { config } = rt;
  const { limits } = config;
  const rateLimiter = createRateLimiter(limits.rateBurstSeconds);
  const metricsHash = config.metrics.token ? hashToken(config.metrics.token) : undefined;

  /** GraphQL at ENDPOINT: the token is checked first, so a request without a valid one is held to its own rate and a small body before anything is read or parsed. */
  const serveGraphQL = async (req: IncomingMessage, res: ServerResponse) => {
    if (state.closing) res.setHeader('connection', 'close');
    const streaming = (req.headers.accept ?? '').includes('text/event-stream');
    if (!streaming) state.inFlight++;
    res.once('close', () => {
      if (!streaming) state.inFlight--;
    });
    let viewer: Viewer | null;
    try {
      viewer = await authenticate(rt, bearerToken(req.headers.authorization));
    } catch (error) {
      rt.log.error(describeError(error), 'authentication failed');
      return void res
        .writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' })
        .end(
          JSON.stringify({ errors: [{ message: 'The database is unavailable', extensions: { code: 'NOT_READY' } }] }),
        );
    }
    const wait = viewer
      ? rateLimiter.take(`token:${viewer.tokenId ?? viewer.tokenName}`, limits.tokenRatePerSecond)
      : rateLimiter.take(`address:${req.socket.remoteAddress ?? 'unknown'}`, limits.anonymousRatePerSecond);
    if (wait > 0) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(wait) });
      const who = viewer
        ? `${limits.tokenRatePerSecond} requests a second per token (RATE_LIMIT_TOKEN_PER_SECOND)`
        : `${limits.anonymousRatePerSecond} requests a second per address without a valid token (RATE_LIMIT_ANONYMOUS_PER_SECOND)`;
      return void res.end(
        JSON.stringify({
          errors: [
            {
              message: `Too many requests: the limit is ${who}; retry after ${wait} s`,
              extensions: { code: 'RATE_LIMITED' },
            },
          ],
        }),
      );
    }
    const tooLarge = viewer
      ? bodyTooLarge(req, limits.maxBodyBytes, 'MAX_BODY_BYTES')
      : bodyTooLarge(req, limits.maxAnonymousBodyBytes, 'MAX_ANONYMOUS_BODY_BYTES, without a valid token');
    if (tooLarge) {
      res.writeHead(tooLarge.extensions.http?.status ?? 413, {
        'content-type': 'application/json',
        connection: 'close',
      });
      // The body is discarded as it comes (nothing kept) rather than left unread: a client still
      // sending would otherwise stall its connection; REQUEST_TIMEOUT_MS bounds how long it may take.
      req.resume();
      return void res.end(
        JSON.stringify({ errors: [{ message: tooLarge.message, extensions: { code: tooLarge.extensions.code } }] }),
      );
    }
    // The viewer goes with the request: the endpoint's context takes it instead of asking again.
    void endpoint.handle(req, res, { viewer });
  };

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
      if (!config.metrics.enabled) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      if (metricsHash && !sameHash(hashToken(bearerToken(req.headers.authorization) ?? ''), metricsHash)) {
        return void res
          .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
          .end('send "Authorization: Bearer <METRICS_TOKEN>"\n');
      }
      return void metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
      );
    }
    if (req.method === 'GET' && path && serveConsole(path, res)) return;
    if (path !== ENDPOINT) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    if (!state.ready)
      return void res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(
        JSON.stringify({
          errors: [{ message: 'Starting up: database migrations are running', extensions: { code: 'NOT_READY' } }],
        }),
      );
    return void serveGraphQL(req, res);
  };
}

/** A request body refused before it is read: over the limit (413), or of unknown length (411). */
function bodyTooLarge(req: IncomingMessage, max: number, setting: string): GraphQLError | null {
  if (req.method !== 'POST') return null;
  const length = req.headers['content-length'];
  if (length === undefined)
    return req.headers['transfer-encoding']
      ? tooComplex('Send a Content-Length header with the request body', 411)
      : null;
  return Number(length) > max
    ? tooComplex(`The request body of ${length} bytes is larger than the limit of ${max} bytes (${setting})`, 413)
    : null;
}
