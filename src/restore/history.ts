import { eq, sql } from 'drizzle-orm';
import type { Tx } from '../db/query.js';
import { NotFoundError } from '../errors.js';
import { notifyOnCommit } from '../events/bus.js';
import type { RestoreProgress, RestoreState } from './rules.js';
import { restoreEvents, restorePlans } from './tables.js';

export type PlanRow = typeof restorePlans.$inferSelect;

/** How long a restoring instance holds a plan without renewing its lease; an expired lease is taken over. */
export const LEASE_MS = 15_000;

/** Thrown when the plan is no longer ours to restore (cancelled, or taken over after our lease expired). */
export class NotOurs extends Error {}

/** Appends an event to a plan's history (the caller holds the plan row lock), published when the transaction commits. */
export async function appendEvent(
  tx: Tx,
  planId: string,
  state: RestoreState,
  previousState: RestoreState | null,
  message: string,
  progress: RestoreProgress | null = null,
): Promise<void> {
  const insert = tx
    .insert(restoreEvents)
    .values({
      planId,
      sequence: sql`(select coalesce(max(${restoreEvents.sequence}), 0) + 1 from ${restoreEvents} where ${restoreEvents.planId} = ${planId})`,
      state,
      previousState,
      message,
      progress,
    })
    .returning({ sequence: restoreEvents.sequence });
  // Recorded and published in one statement.
  const published = notifyOnCommit(
    'restoreProgress',
    planId,
    sql`json_build_object('planId', ${planId}::text, 'sequence', e.sequence)`,
  );
  await tx.execute(sql`with e as (${insert.getSQL()}) select ${published} from e`);
}

/** The plan row, locked until the transaction ends: changes to one plan queue up. */
export async function lockPlan(tx: Tx, planId: string): Promise<PlanRow> {
  const [plan] = await tx.select().from(restorePlans).where(eq(restorePlans.id, planId)).for('update');
  if (!plan) throw new NotFoundError('RestorePlan', planId);
  return plan;
}

/**
 * Locks the plan and extends the lease of this instance in one statement, before a restore step
 * writes anything; throws NotOurs unless the plan is still RESTORING and leased by `owner` (an
 * instance that lost the lease must not write into its successor's work).
 */
export async function renewLease(tx: Tx, planId: string, owner: string): Promise<void> {
  const [plan] = await tx
    .update(restorePlans)
    .set({ leaseExpiresAt: new Date(Date.now() + LEASE_MS) })
    .where(eq(restorePlans.id, planId))
    .returning({ state: restorePlans.state, leaseOwner: restorePlans.leaseOwner });
  if (plan?.state !== 'RESTORING' || plan.leaseOwner !== owner) throw new NotOurs();
}
