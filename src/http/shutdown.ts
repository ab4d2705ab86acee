import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocketServer } from 'ws';
import type { GraphQLEndpoint } from './endpoint.js';
import type { RevokedSockets } from './revocation.js';
import type { ServingState } from './routes.js';

/** The server's open connections, so that a shutdown can end those that would keep it open. */
export function trackConnections(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

export interface ServerParts {
  server: Server;
  state: ServingState;
  webSocket: WebSocketServer;
  revokedSockets: RevokedSockets;
  connections: Set<Socket>;
  endpoint: GraphQLEndpoint;
}

/**
 * Stop accepting, close WebSockets (1001), let in-flight requests finish (up to graceMs), then end
 * what remains (idle keep-alive and SSE connections) and release the endpoint.
 */
export async function shutDown(parts: ServerParts, graceMs: number): Promise<void> {
  const { server, state, webSocket, revokedSockets, connections, endpoint } = parts;
  state.closing = true;
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const client of webSocket.clients) client.close(1001, 'Server shutting down');
  server.closeIdleConnections();
  const deadline = Date.now() + graceMs;
  while (state.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  // What remains is idle keep-alive or long-lived (SSE) connections: end them.
  for (const socket of connections) socket.destroy();
  webSocket.close();
  await revokedSockets.stop();
  await stopped;
  await endpoint.dispose();
}
