import { type SQL, sql } from 'drizzle-orm';
import type { Viewer } from '../auth/rules.js';
import type { Database } from '../db/client.js';
import type { Context } from '../graphql/context.js';
import { decodeId } from '../graphql/ids.js';
import { DomainError } from '../errors.js';
import { auditLog } from './tables.js';
import { storableTarget } from './target.js';

type Entry = typeof auditLog.$inferInsert;

/**
 * A mutation's audit entry, for a mutation that makes its change in one statement and writes the entry
 * in that same statement (see auditInsertFrom): `entry()` while no entry is written yet, `written()`
 * once the statement has committed it.
 */
export interface OwnAuditEntry {
  entry(): Entry | null;
  written(): void;
}

/**
 * The part of a statement that writes `entry` once per row of `source` (the name of a data-modifying
 * CTE): no row, no entry (the failure is then recorded by `audited`).
 */
export function auditInsertFrom(entry: Entry, source: SQL, at: Date): SQL {
  return auditInsert(source, auditValues(entry, at));
}

/** auditInsertFrom for a prepared statement: the entry's values are its placeholders (see auditValues). */
export function auditInsertPlaceholders(source: SQL): SQL {
  const names = Object.keys(auditValues({ tokenName: '', operation: '', outcome: '' }, new Date()));
  return auditInsert(source, Object.fromEntries(names.map((name) => [name, sql.placeholder(name)])));
}

/** The values of an audit entry, named as auditInsertPlaceholders names its placeholders. */
export function auditValues(entry: Entry, at: Date): Record<string, unknown> {
  return {
    audit_at: at.toISOString(),
    audit_token_id: entry.tokenId ?? null,
    audit_token_name: entry.tokenName,
    audit_operation: entry.operation,
    audit_target_id: entry.targetId ?? null,
    audit_service_id: entry.serviceId ?? null,
    audit_outcome: entry.outcome,
  };
}

function auditInsert(source: SQL, v: Record<string, unknown>): SQL {
  return sql`insert into ${auditLog} (at, token_id, token_name, operation, target_id, service_id, outcome)
    select ${v.audit_at}::timestamptz, ${v.audit_token_id}::uuid, ${v.audit_token_name}, ${v.audit_operation},
      ${v.audit_target_id}, ${v.audit_service_id}::uuid, ${v.audit_outcome} from ${source}`;
}

/** The audit entry of a mutation from its name and input: the first id input is its target. */
export function auditEntry(viewer: Viewer | null, operation: string, input: Record<string, unknown> | null): Entry {
  const ids = Object.entries(input ?? {}).filter(([key, value]) => key.endsWith('Id') && typeof value === 'string');
  const serviceGlobalId = input?.serviceId;
  // A malformed or foreign id records no service: the mutation itself reports it.
  const decoded = typeof serviceGlobalId === 'string' ? decodeId(serviceGlobalId, ['Service'], ['serviceId']) : null;
  const serviceId = decoded && !(decoded instanceof DomainError) ? decoded.id : null;
  return {
    tokenId: viewer?.tokenId ?? null,
    tokenName: viewer?.tokenName ?? 'anonymous',
    operation,
    targetId: storableTarget(ids[0]?.[1] as string | undefined),
    serviceId,
    outcome: 'SUCCEEDED',
  };
}

/**
 * Runs a mutation with its audit entry. The mutation gets a context whose database writes the entry
 * in the first top-level transaction it commits (so the record and the effect commit together); a
 * mutation that changed nothing in a transaction, or failed, is recorded after it with its outcome.
 * (Passed explicitly rather than through AsyncLocalStorage, whose promise hooks slow every await.)
 */
export async function audited<T>(ctx: Context, entry: Entry, run: (ctx: Context) => Promise<T>): Promise<T> {
  let written = false;
  const db: Database = Object.create(ctx.db);
  db.transaction = ((work: Parameters<Database['transaction']>[0], config?: unknown) =>
    ctx.db.transaction(async (tx) => {
      const result = await work(tx);
      if (!written) await tx.insert(auditLog).values(entry);
      written = true;
      return result;
    }, config as never)) as Database['transaction'];
  try {
    const own: OwnAuditEntry = {
      entry: () => (written ? null : entry),
      written: () => {
        written = true;
      },
    };
    const result = await run({
      ...ctx,
      db,
      runtime: { ...ctx.runtime, database: { ...ctx.runtime.database, db } },
      audit: own,
    });
    if (!written) await ctx.db.insert(auditLog).values(entry);
    written = true;
    return result;
  } catch (error) {
    const outcome = error instanceof DomainError ? error.code : 'INTERNAL_ERROR';
    await ctx.db
      .insert(auditLog)
      .values({ ...entry, outcome: written ? `${outcome} (after its first change)` : outcome });
    written = true;
    throw error;
  }
}

/** A mutation refused before it ran (its role, its token or its input): recorded, though nothing ran. */
export async function recordRefusal(
  db: Database,
  viewer: Viewer | null,
  operation: string,
  input: Record<string, unknown> | null,
  outcome = 'FORBIDDEN',
): Promise<void> {
  await db.insert(auditLog).values({ ...auditEntry(viewer, operation, input), outcome });
}
