import type { Plugin } from 'graphql-yoga';
import { Repeater } from 'graphql-yoga';
import type { WebSocket } from 'ws';
import type { Context } from '../graphql/context.js';
import type { Runtime } from '../runtime.js';

// A revoked token stops at once: what it has open ends too, over either transport.

/**
 * An SSE subscription ends as soon as the token that opened it is revoked. (A WebSocket is closed
 * whole, with 4403, by closeRevokedSockets: no per-subscription listener needed.)
 */
export function endOnRevocation(rt: Runtime): Plugin<Context> {
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
              const next = await Promise.race([
                source.next(),
                stop.then(() => ({ done: true as const, value: undefined })),
              ]);
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

export interface RevokedSockets {
  /** Remember that `socket` was opened with token `tokenId`, until it closes. */
  add(tokenId: string, socket: WebSocket): void;
  /** Stop listening for revocations. */
  stop(): Promise<void>;
}

/** A revoked token's open WebSockets are closed at once (4403 Forbidden), and with them its subscriptions. */
export function closeRevokedSockets(rt: Runtime): RevokedSockets {
  const socketsByToken = new Map<string, Set<WebSocket>>();
  const revocations = rt.events.subscribe('tokenRevoked');
  void (async () => {
    for await (const { tokenId } of revocations) {
      for (const socket of socketsByToken.get(tokenId) ?? []) socket.close(4403, 'Token revoked');
      socketsByToken.delete(tokenId);
    }
  })();
  return {
    add: (tokenId, socket) => {
      const set = socketsByToken.get(tokenId) ?? new Set();
      socketsByToken.set(tokenId, set.add(socket));
      socket.once('close', () => {
        set.delete(socket);
        if (!set.size) socketsByToken.delete(tokenId);
      });
    },
    stop: async () => {
      await revocations.return?.();
    },
  };
}
