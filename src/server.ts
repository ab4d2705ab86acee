import { createServer, type Server } from 'node:http';
import { createMetrics } from './metrics.js';
import type { Runtime } from './runtime.js';
import { createGraphQLEndpoint } from './http/endpoint.js';
import { closeRevokedSockets } from './http/revocation.js';
import { routeRequests, type ServingState } from './http/routes.js';
import { shutDown, trackConnections } from './http/shutdown.js';
import { serveWebSocket } from './http/websocket.js';

export interface HttpServer {
  server: Server;
  /** Serve GraphQL once the database is migrated; until then /readyz answers 503. */
  setReady(ready: boolean): void;
  /** Stop accepting, let in-flight requests finish (up to graceMs), close subscriptions. */
  close(graceMs?: number): Promise<void>;
}

/**
 * One node:http server: the HTTP routes (/healthz /readyz /metrics, GraphQL and GraphiQL at
 * /graphql, SSE included) and GraphQL over WebSocket on the same port, all through one endpoint.
 */
export function createHttpServer(rt: Runtime): HttpServer {
  const state: ServingState = { ready: false, closing: false, inFlight: 0 };
  const metrics = createMetrics(rt);
  const endpoint = createGraphQLEndpoint(rt, metrics.plugin);
  const { headersTimeoutMs, requestTimeoutMs } = rt.config.limits;
  // A client that stalls while sending its headers or its body is answered 408 and let go, checked every second at most.
  const timeouts = {
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, headersTimeoutMs),
  };
  const server = createServer(timeouts, routeRequests(rt, endpoint, metrics, state));
  const revokedSockets = closeRevokedSockets(rt);
  const webSocket = serveWebSocket(rt, server, endpoint, revokedSockets);
  const connections = trackConnections(server);
  return {
    server,
    setReady: (ready) => {
      state.ready = ready;
    },
    close: (graceMs = 10_000) => shutDown({ server, state, webSocket, revokedSockets, connections, endpoint }, graceMs),
  };
}
