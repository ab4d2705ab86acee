import { setTimeout as delay } from 'node:timers/promises';
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import type { Runtime } from '../runtime.js';
import { terminalStates, type RestoreState } from './rules.js';
import { restoreEvents } from './tables.js';

type EventRow = typeof restoreEvents.$inferSelect;

/** How long after a plan's terminal event its streams complete. */
const COMPLETE_AFTER_MS = 100;

/**
 * The notifications of one plan on this instance: one bus listener per plan, not per subscriber.
 * `version` counts notifications; `changed` resolves at the next one. `reads` are the reads of the
 * plan's events in flight, shared by the subscribers that ask at the same time.
 */
interface Feed {
  version: number;
  changed: Promise<void>;
  subscribers: number;
  reads: Map<string, Promise<EventRow[]>>;
  close(): void;
}
const feeds = new Map<string, Feed>();

/**
 * A plan's events after a sequence number, read once for all the subscribers that ask at the same
 * time (many join together, and every subscriber asks after each notification). The key includes
 * the feed's notification count `version`, read by the subscriber after it joined the feed: a read
 * begun before a notification is never reused after it, so an event committed after that read's
 * snapshot always leads to another read, and nothing is missed. Reads belong to one feed: a feed
 * made again after its subscribers left counts from 0 and must not reuse an older feed's read.
 */
function eventsAfter(feed: Feed, db: Database, planId: string, after: number, version: number) {
  const key = `${after}:${version}`;
  let rows = feed.reads.get(key);
  if (!rows) {
    rows = db
      .select()
      .from(restoreEvents)
      .where(and(eq(restoreEvents.planId, planId), gt(restoreEvents.sequence, after)))
      .orderBy(asc(restoreEvents.sequence))
      .execute(); // a promise: a drizzle query would run again for each `await`
    feed.reads.set(key, rows);
    void rows.finally(() => feed.reads.delete(key)).catch(() => {});
  }
  return rows;
}

function joinFeed(rt: Runtime, planId: string): Feed {
  let feed = feeds.get(planId);
  if (!feed) {
    const live = rt.events.subscribe('restoreProgress', planId)[Symbol.asyncIterator]();
    let wake = () => {};
    const created: Feed = {
      version: 0,
      changed: new Promise((r) => (wake = r)),
      subscribers: 0,
      reads: new Map(),
      close: () => void live.return?.(),
    };
    feed = created;
    feeds.set(planId, feed);
    void (async () => {
      for (let next = await live.next(); !next.done; next = await live.next()) {
        created.version++;
        const woken = wake;
        created.changed = new Promise((r) => (wake = r));
        woken();
      }
    })().catch((error) => rt.log.warn({ planId, errorName: (error as Error)?.name }, 'restore event feed ended'));
  }
  feed.subscribers++;
  return feed;
}

function leaveFeed(planId: string, feed: Feed): void {
  if (--feed.subscribers > 0) return;
  feeds.delete(planId);
  feed.close();
}

/**
 * One subscriber's view of a plan: its history, then its live events, done after a terminal state.
 * A plain iterator (not a generator, not a Repeater): `return` ends a wait at once and leaves the
 * feed, and each event costs a few promise steps, which count when a plan has 1,000 subscribers.
 */
export function planEvents(rt: Runtime, db: Database, planId: string): AsyncIterableIterator<EventRow> {
  // Joined at the first `next` (a stream never read holds nothing), and before the first read: an
  // event recorded in between is read from the database, never lost.
  let feed: Feed | null = null;
  let rows: EventRow[] = [];
  let index = 0;
  let seen = -1;
  let last = 0;
  let terminalSent = false;
  let finished = false;
  let wake = () => {};
  const returned = new Promise<void>((resolve) => (wake = resolve));
  const finish = () => {
    if (!finished) {
      finished = true;
      if (feed) leaveFeed(planId, feed);
      wake();
    }
    return { done: true as const, value: undefined };
  };
  const next = async (): Promise<IteratorResult<EventRow>> => {
    feed ??= finished ? null : joinFeed(rt, planId);
    while (feed && !finished) {
      if (index < rows.length) {
        const row = rows[index++]!;
        last = row.sequence;
        terminalSent = terminalStates.includes(row.state as RestoreState);
        return { done: false, value: row };
      }
      if (terminalSent) {
        // The completion carries nothing: it waits a moment, so that it never competes with the
        // delivery of the last event to the other subscribers, of this instance or of another.
        await Promise.race([delay(COMPLETE_AFTER_MS), returned]);
        break;
      }
      const version = feed.version;
      if (version === seen) {
        await Promise.race([feed.changed, returned]);
        continue;
      }
      rows = await eventsAfter(feed, db, planId, last, version);
      index = 0;
      seen = version;
    }
    return finish();
  };
  const iterator: AsyncIterableIterator<EventRow> = {
    [Symbol.asyncIterator]: () => iterator,
    next: () =>
      next().catch((error) => {
        finish();
        throw error;
      }),
    return: async () => finish(),
    throw: async (error) => {
      finish();
      throw error;
    },
  };
  return iterator;
}
