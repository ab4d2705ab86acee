import type { Logger } from 'pino';
import { sql, type SQL } from 'drizzle-orm';
import { createPubSub } from 'graphql-yoga';
import type { DatabaseHandle } from '../db/client.js';
import type { ServiceState } from '../service/rules.js';

/** A service moved from one state to another (payloads stay small: ids and states). */
export interface ServiceStateChange {
  serviceId: string;
  previousState: ServiceState | null;
  state: ServiceState;
  at: string;
}

/** A backup moved from one status to another. */
export interface BackupStatusChange {
  backupId: string;
  /** Null for a backup imported from a service this deployment never had. */
  serviceId: string | null;
  previousStatus: string | null;
  status: string;
  at: string;
}

/** A restore drill failed: its backup did not restore, or the restore differs from it. */
export interface RestoreDrillFailure {
  drillId: string;
  serviceId: string;
  at: string;
}

export type Topics = {
  serviceStateChanged: [ServiceStateChange];
  backupStatusChanged: [BackupStatusChange];
  restoreDrillFailed: [RestoreDrillFailure];
  /** A token was revoked: close what it has open. */
  tokenRevoked: [{ tokenId: string }];
  /** A restore plan recorded event `sequence` (read it from restore_events). */
  restoreProgress: [planId: string, event: { planId: string; sequence: number }];
};

/** The channel of every event. PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; ours carry ids and states only. */
const CHANNEL = 'biztalk_backup_events';

/**
 * The `pg_notify(...)` that publishes an event from inside a transaction, as an SQL expression for
 * the statement that records the event (one round trip): PostgreSQL delivers it when, and only if,
 * the transaction commits, in the order of the commits, so a crash between the commit and the
 * publication cannot lose it (a subscriber waiting for a restore's last event would wait forever) and
 * two instances changing one row publish in the order of their changes. `data` is a `json` expression;
 * `id` the topic's id, for topics that have one.
 */
export function notifyOnCommit(topic: keyof Topics, id: string | null, data: SQL): SQL {
  return sql`pg_notify(${CHANNEL}, json_build_object('topic', ${id === null ? topic : `${topic}:${id}`}::text, 'data', ${data})::text)`;
}

/** Publishes an event of a topic without id when, and only if, the transaction `tx` commits (see notifyOnCommit). */
export async function publishOnCommit<
  K extends { [T in keyof Topics]: Topics[T] extends [unknown] ? T : never }[keyof Topics],
>(tx: { execute(query: SQL): Promise<unknown> }, topic: K, payload: Topics[K][0]): Promise<void> {
  await tx.execute(sql`select ${notifyOnCommit(topic, null, sql`${JSON.stringify(payload)}::json`)}`);
}

/**
 * The one event bus: typed topics over yoga's pub/sub, carried by PostgreSQL LISTEN/NOTIFY so that
 * an event published on one instance reaches the subscribers of every instance (on the embedded
 * database the same path runs inside the one process). Events are published by the transaction
 * that makes them true (publishOnCommit); every event, local ones included, arrives through LISTEN,
 * so each subscriber sees each event once. Payloads stay small: ids, states and sequence numbers;
 * subscribers read the rest from the database.
 */
export async function createEventBus(database: DatabaseHandle, log: Logger) {
  // Listeners are called here rather than by a Node EventTarget: a subscriber too slow to keep up
  // makes its own stream overflow, and that must not become an uncaught exception for the process.
  const listeners = new Map<string, Set<(event: { detail: unknown }) => void>>();
  const stop = await database.listen(CHANNEL, (payload) => {
    let message: { topic: string; data: unknown };
    try {
      message = JSON.parse(payload);
    } catch {
      return log.warn('ignored a malformed event notification');
    }
    for (const listener of [...(listeners.get(message.topic) ?? [])]) {
      try {
        listener({ detail: message.data });
      } catch (error) {
        log.warn(
          { topic: message.topic, errorName: (error as Error)?.name },
          'a subscriber could not take an event (too slow?); it missed it',
        );
      }
    }
  });
  const target = {
    addEventListener: (type: string, listener: (event: { detail: unknown }) => void) => {
      listeners.set(type, (listeners.get(type) ?? new Set()).add(listener));
    },
    removeEventListener: (type: string, listener: (event: { detail: unknown }) => void) => {
      listeners.get(type)?.delete(listener);
      if (!listeners.get(type)?.size) listeners.delete(type);
    },
    dispatchEvent() {
      throw new Error('events are published by the transaction that makes them true: publishOnCommit');
    },
  };
  const bus = createPubSub<Topics>({ eventTarget: target as never });
  return { subscribe: bus.subscribe, close: stop };
}

export type EventBus = Awaited<ReturnType<typeof createEventBus>>;
