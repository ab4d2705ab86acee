import { and, eq, gte, lt } from 'drizzle-orm';
import type { Viewer } from '../auth/rules.js';
import type { Database } from '../db/client.js';
import { DomainError, ValidationError } from '../errors.js';
import type { Context } from '../graphql/context.js';
import { idempotencyKeys } from './tables.js';

/** How long a key holds its first result. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;
const MAX_KEY_LENGTH = 200;
/** How long a retry waits for the first call of its key to finish before it is told to retry later. */
const WAIT_FOR_FIRST_MS = 10_000;

export class IdempotencyKeyReusedError extends DomainError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor(readonly operation: string) {
    super(
      `This idempotency key was used in the last 24 hours for a different input (${operation}); use a new key for a new request`,
    );
  }
}

export class IdempotencyKeyInUseError extends DomainError {
  readonly code = 'IDEMPOTENCY_KEY_IN_USE';
}

/** Whose keys: a token's own, so two callers never see each other's results. */
const principalOf = (viewer: Viewer | null) =>
  viewer?.tokenId ? `token:${viewer.tokenId}` : `name:${viewer?.tokenName ?? 'anonymous'}`;

/** JSON with sorted keys, so that the same input always gives the same fingerprint. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

// A result is kept as JSON; dates, bytes and big integers are tagged so that a replay gets them back as they were.
function encode(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
    const raw = this[key];
    if (raw instanceof Date) return { $date: raw.toISOString() };
    if (raw instanceof Uint8Array) return { $bytes: Buffer.from(raw).toString('base64') };
    if (typeof raw === 'bigint') return { $bigint: raw.toString() };
    return v;
  });
}

function decode(text: string): unknown {
  return JSON.parse(text, (_key, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (typeof v.$date === 'string') return new Date(v.$date);
      if (typeof v.$bytes === 'string') return Buffer.from(v.$bytes, 'base64');
      if (typeof v.$bigint === 'string') return BigInt(v.$bigint);
    }
    return v;
  });
}

/** Removes the keys past their 24 hours (the scheduler's sweep); a retry after that acts again anyway. */
export async function forgetExpiredKeys(db: Database): Promise<number> {
  const cutoff = new Date(Date.now() - IDEMPOTENCY_WINDOW_MS);
  const removed = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, cutoff))
    .returning({ key: idempotencyKeys.key });
  return removed.length;
}

/** Thrown inside the first transaction when another call with the key committed first: that transaction rolls back. */
class KeyTaken extends Error {}

export interface IdempotentCall {
  operation: string;
  key: string | null | undefined;
  /** The input as the caller sent it, without the key. */
  input: Record<string, unknown>;
  /** Called when the result is a replay (the audit records it so). */
  onReplay: () => void;
}

/**
 * Runs a mutation at most once per key: the key is recorded in the first transaction the mutation
 * commits, together with its effect (a transaction that rolls back frees it again), so that of two concurrent calls (on any instances) only one
 * commits; the other's transaction rolls back and it returns the first one's result.
 */
export async function idempotent<T>(ctx: Context, call: IdempotentCall, run: (ctx: Context) => Promise<T>): Promise<T> {
  const { key } = call;
  if (key === null || key === undefined) return run(ctx);
  if (key.length === 0 || key.length > MAX_KEY_LENGTH)
    throw ValidationError.field(['input', 'idempotencyKey'], `must be 1–${MAX_KEY_LENGTH} characters`);
  const principal = principalOf(ctx.viewer);
  const fingerprint = ctx.runtime.secrets.fingerprint(`${call.operation}\n${canonical(call.input)}`);
  const where = and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key));

  const replay = async (): Promise<T> => {
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      const cutoff = new Date(Date.now() - IDEMPOTENCY_WINDOW_MS);
      const [first] = await ctx.db
        .select()
        .from(idempotencyKeys)
        .where(and(where, gte(idempotencyKeys.createdAt, cutoff)));
      if (!first) return claimAndRun();
      if (first.inputFingerprint !== fingerprint) throw new IdempotencyKeyReusedError(first.operation);
      if (first.result !== null) {
        const stored = decode(ctx.runtime.secrets.open(first.result).toString()) as { ok?: T; failed?: string };
        if (stored.failed !== undefined)
          throw new IdempotencyKeyInUseError(
            `The first request with this idempotency key changed something and then failed (${stored.failed}); check what it changed and retry with a new key`,
          );
        call.onReplay();
        return stored.ok as T;
      }
      if (Date.now() > deadline)
        throw new IdempotencyKeyInUseError('The first request with this idempotency key is still running; retry later');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  // Records the key (an expired record of it is replaced); false when another call holds it.
  const claim = async (db: Database): Promise<boolean> => {
    await db
      .delete(idempotencyKeys)
      .where(and(where, lt(idempotencyKeys.createdAt, new Date(Date.now() - IDEMPOTENCY_WINDOW_MS))));
    const inserted = await db
      .insert(idempotencyKeys)
      .values({ principal, key, operation: call.operation, inputFingerprint: fingerprint })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    return inserted.length === 1;
  };

  const claimAndRun = async (): Promise<T> => {
    let claimed = false;
    const db: Database = Object.create(ctx.db);
    // The key is claimed first in the transaction, so a concurrent retry waits on it there (PostgreSQL
    // holds its insert until ours commits or rolls back) before it could meet our effect's rows.
    db.transaction = (async (work: Parameters<Database['transaction']>[0], config?: unknown) => {
      const claiming = !claimed;
      const result = await ctx.db.transaction(async (tx) => {
        if (claiming && !(await claim(tx))) throw new KeyTaken();
        return work(tx);
      }, config as never);
      claimed = true;
      return result;
    }) as Database['transaction'];
    let result: T;
    try {
      // No audit entry to write in a statement of its own: the key must commit in the mutation's transaction.
      const { audit: _own, ...rest } = ctx;
      result = await run({ ...rest, db, runtime: { ...ctx.runtime, database: { ...ctx.runtime.database, db } } });
    } catch (error) {
      if (error instanceof KeyTaken) return replay();
      // A call that failed before its first commit changed nothing: its key stays free for a retry.
      if (claimed) await store({ failed: error instanceof DomainError ? error.code : 'INTERNAL_ERROR' });
      throw error;
    }
    // A mutation that wrote nothing in a transaction records its key now.
    if (!claimed && !(await claim(ctx.db))) return replay();
    await store({ ok: result });
    return result;
  };

  const store = (outcome: { ok?: unknown; failed?: string }) =>
    ctx.db
      .update(idempotencyKeys)
      .set({ result: ctx.runtime.secrets.seal(encode(outcome)) })
      .where(where);

  return replay();
}
