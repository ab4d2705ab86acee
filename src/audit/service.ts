import { AsyncLocalStorage } from 'node:async_hooks';
import { decodeGlobalID } from '@pothos/plugin-relay';
import type { Viewer } from '../auth/rules.js';
import type { Database } from '../db/client.js';
import { DomainError } from '../errors.js';
import { auditLog } from './tables.js';

type Entry = typeof auditLog.$inferInsert;

interface Scope {
  entry: Entry;
  written: boolean;
}

const current = new AsyncLocalStorage<Scope>();

/** The audit entry of a mutation from its name and input: the first id input is its target. */
export function auditEntry(viewer: Viewer | null, operation: string, input: Record<string, unknown> | null): Entry {
  const ids = Object.entries(input ?? {}).filter(([key, value]) => key.endsWith('Id') && typeof value === 'string');
  const serviceGlobalId = input?.serviceId;
  let serviceId: string | null = null;
  try {
    const decoded = typeof serviceGlobalId === 'string' ? decodeGlobalID(serviceGlobalId) : null;
    if (decoded?.typename === 'Service' && /^[0-9a-f-]{36}$/i.test(decoded.id)) serviceId = decoded.id;
  } catch {
    // a malformed id: the mutation itself reports it
  }
  return { tokenId: viewer?.tokenId ?? null, tokenName: viewer?.tokenName ?? 'anonymous', operation, targetId: (ids[0]?.[1] as string) ?? null, serviceId, outcome: 'SUCCEEDED' };
}

/**
 * Runs a mutation with its audit entry. The first transaction it commits carries the entry (so the
 * record and the effect commit together); a mutation that changed nothing in a transaction, or
 * failed, is recorded after it with its outcome.
 */
export async function audited<T>(db: Database, entry: Entry, run: () => Promise<T>): Promise<T> {
  const scope: Scope = { entry, written: false };
  try {
    const result = await current.run(scope, run);
    if (!scope.written) await db.insert(auditLog).values(entry);
    return result;
  } catch (error) {
    const outcome = error instanceof DomainError ? error.code : 'INTERNAL_ERROR';
    if (!scope.written) await db.insert(auditLog).values({ ...entry, outcome });
    else await db.insert(auditLog).values({ ...entry, outcome: `${outcome} (after its first change)` });
    throw error;
  }
}

/** Makes every top-level transaction write the pending audit entry of the mutation it runs for, before it commits. */
export function auditTransactions(db: Database): Database {
  const transaction = db.transaction.bind(db);
  db.transaction = ((work: (tx: any) => Promise<unknown>, config?: unknown) =>
    transaction(async (tx) => {
      const result = await work(tx);
      const scope = current.getStore();
      if (scope && !scope.written) {
        await tx.insert(auditLog).values(scope.entry);
        scope.written = true;
      }
      return result;
    }, config as never)) as Database['transaction'];
  return db;
}

/** A mutation the caller's role may not use: recorded, though nothing ran. */
export async function recordRefusal(db: Database, viewer: Viewer | null, operation: string, input: Record<string, unknown> | null): Promise<void> {
  await db.insert(auditLog).values({ ...auditEntry(viewer, operation, input), outcome: 'FORBIDDEN' });
}
