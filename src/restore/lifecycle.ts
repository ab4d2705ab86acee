import { and, eq, isNull, lt, or } from 'drizzle-orm';
import { BackupUnreadableError } from '../backup/rules.js';
import { backups } from '../backup/tables.js';
import type { Tx } from '../db/query.js';
import {
  InvalidStateError,
  LimitExceededError,
  NameUnavailableError,
  NotFoundError,
  ValidationError,
  isUniqueViolation,
} from '../errors.js';
import { describeError } from '../log.js';
import type { Runtime } from '../runtime.js';
import { validateName, validateRegion, type Edition } from '../service/rules.js';
import { services } from '../service/tables.js';
import {
  applyTransition,
  assertMergeable,
  beginMerge,
  endMerge,
  lockService,
  createRestoreTarget,
  emptyRestoreTarget,
  removeRestoreTarget,
  transitionService,
  type ServiceRow,
} from '../service/service.js';
import { checklist, createChecklist } from './checklist.js';
import { LEASE_MS, NotOurs, appendEvent, lockPlan, type PlanRow } from './history.js';
import { checkPlan, type PlanInput } from './plan.js';
import { ChecklistIncompleteError, PlanBlockedError, blockers, nextPlanState, type PlanStep } from './rules.js';
import { resolveSelection, restoresAgreement } from './selection.js';
import { restorePlans } from './tables.js';
import { mergeChecks, mergeInto } from './merge.js';
import { fillTarget } from './worker.js';

/**
 * The one owner of a restore plan's lifecycle: every change of a plan's state goes through
 * `transition`, which checks the step against the table in rules.ts, writes the new state, and
 * records and publishes the event in the caller's transaction. The target service is created and
 * removed through the service slice, which publishes its own state changes. The durable work (the
 * worker filling the target) is started here, on the server's runtime, when a plan starts
 * RESTORING, and again when another instance takes it over.
 */

const MAX_ATTEMPTS = 3;

async function transition(
  tx: Tx,
  plan: PlanRow,
  step: PlanStep,
  message: string,
  changes: Partial<PlanRow> = {},
): Promise<PlanRow> {
  const state = nextPlanState(step, plan.state);
  const [updated] = await tx
    .update(restorePlans)
    .set({ ...changes, state, updatedAt: new Date() })
    .where(eq(restorePlans.id, plan.id))
    .returning();
  await appendEvent(tx, plan.id, state, plan.state, message);
  return updated!;
}

/** The existing service a merge plan restores into: SUSPENDED or STOPPED, with a selection. */
async function mergeTarget(rt: Runtime, input: PlanInput): Promise<ServiceRow> {
  for (const field of ['targetName', 'targetEdition', 'targetRegion'] as const)
    if (input[field] != null)
      throw ValidationError.field(['input', field], "must be left out when merging: it is the target service's");
  if (!input.selection)
    throw ValidationError.field(['input', 'selection'], 'is required to merge into an existing service');
  return mergeableService(rt, input.targetServiceId!);
}

async function mergeableService(rt: Runtime, id: string): Promise<ServiceRow> {
  const [service] = await rt.database.db.select().from(services).where(eq(services.id, id));
  if (!service || service.state === 'DELETED') throw new NotFoundError('Service', id);
  assertMergeable(service);
  return service;
}

/**
 * A new plan, PLANNED, with every check computed from the backup's content (read and checksummed):
 * into a new service (targetName), or, for a selection, merged into an existing one (targetServiceId).
 */
export async function createRestorePlan(rt: Runtime, input: PlanInput): Promise<PlanRow> {
  const into = input.targetServiceId ? await mergeTarget(rt, input) : null;
  if (!into && input.onCollision != null)
    throw ValidationError.field(['input', 'onCollision'], 'applies only to a merge (targetServiceId)');
  if (!into && !input.targetName)
    throw ValidationError.field(['input', 'targetName'], 'is required, or targetServiceId to merge into a service');
  const targetName = into?.name ?? input.targetName!;
  if (!into) validateName(targetName, ['input', 'targetName']);
  const [backup] = await rt.database.db.select().from(backups).where(eq(backups.id, input.backupId));
  if (!backup) throw new NotFoundError('Backup', input.backupId);
  if (backup.status === 'UNREADABLE')
    throw new BackupUnreadableError(`This backup cannot be read here: ${backup.failureReason}`);
  const targetRegion = into?.region ?? input.targetRegion ?? backup.region;
  validateRegion(targetRegion, ['input', 'targetRegion']);
  const target = {
    name: targetName,
    edition: (into?.edition ?? input.targetEdition ?? backup.edition) as Edition,
    policy: input.controlNumberPolicy ?? 'ADVANCE_PAST_ISSUED',
    existing: !!into,
  };
  const onCollision = into ? (input.onCollision ?? 'SKIP') : null;
  const selection = input.selection ? await resolveSelection(rt, backup, input.selection, !!into) : null;
  const checks = await checkPlan(rt, backup, target, true, restoresAgreement(selection));
  if (selection) checks.push(...selection.checks);
  if (into && onCollision)
    checks.push(...(await mergeChecks(rt.database.db, into, selection?.itemNames ?? {}, onCollision)));
  const found = blockers(checks).length;
  const warnings = checks.filter((c) => c.severity === 'WARNING').length;
  return rt.database.db.transaction(async (tx) => {
    const [plan] = await tx
      .insert(restorePlans)
      .values({
        backupId: backup.id,
        targetName: target.name,
        targetEdition: target.edition,
        targetRegion,
        controlNumberPolicy: target.policy,
        state: 'PLANNED',
        checks,
        selection,
        targetServiceId: into?.id ?? null,
        onCollision,
      })
      .returning();
    const message = found
      ? `Planned with ${found} blocker(s): resolve them before executing`
      : `Planned: ${warnings} warning(s) to review, no blocker`;
    await appendEvent(tx, plan!.id, 'PLANNED', null, message);
    return plan!;
  });
}

/**
 * Re-validates the plan (things change between planning and executing: names, control numbers
 * issued, FTP folders, the backup's status; its content is not read again), then creates the target
 * service in state RESTORING and starts the restore as durable background work. The live-name
 * unique index makes two plans racing for one name end with one winner.
 */
export async function executeRestorePlan(rt: Runtime, planId: string): Promise<PlanRow> {
  const { db } = rt.database;
  const [existing] = await db.select().from(restorePlans).where(eq(restorePlans.id, planId));
  if (!existing) throw new NotFoundError('RestorePlan', planId);
  nextPlanState('execute', existing.state); // refused before the checks are computed
  const [backup] = existing.backupId ? await db.select().from(backups).where(eq(backups.id, existing.backupId)) : [];
  if (!backup)
    throw new InvalidStateError('The backup of this plan was deleted; plan again from another backup', 'NO_BACKUP');
  const into = existing.targetServiceId ? await mergeableService(rt, existing.targetServiceId) : null;
  if (existing.onCollision && !into)
    throw new InvalidStateError('The service this plan merges into was deleted; plan again', 'NO_TARGET');
  const target = {
    name: existing.targetName,
    edition: existing.targetEdition as Edition,
    policy: existing.controlNumberPolicy,
    existing: !!into,
  };
  const restored = restoresAgreement(existing.selection);
  const checks = [...(await checkPlan(rt, backup, target, false, restored)), ...(existing.selection?.checks ?? [])];
  if (into && existing.onCollision)
    checks.push(...(await mergeChecks(db, into, existing.selection?.itemNames ?? {}, existing.onCollision)));
  const blocking = blockers(checks);
  if (blocking.length) {
    // A name taken since planning lost a race to another plan or a create: say so, as the unique index would.
    const nameCodes = ['NAME_IN_USE', 'NAME_ON_HOLD'];
    const raced =
      blocking.every((b) => nameCodes.includes(b.code)) && !existing.checks.some((c) => nameCodes.includes(c.code));
    if (raced)
      throw new NameUnavailableError(
        `Another service took the name "${existing.targetName}" since this plan was made`,
        existing.targetName,
        null,
      );
    throw new PlanBlockedError(blocking);
  }
  const restoring = await db
    .transaction(async (tx) => {
      const plan = await lockPlan(tx, planId);
      nextPlanState('execute', plan.state); // refused before the target is created (its name may be taken)
      // A merge fills a staging service first; its target is RESTORING (unchangeable) until the merge ends.
      const targetPreviousState = plan.targetServiceId ? await beginMerge(tx, plan.targetServiceId) : null;
      const name = targetPreviousState ? `merge-${plan.id}` : plan.targetName;
      const service = await createRestoreTarget(tx, {
        name,
        edition: plan.targetEdition as Edition,
        region: plan.targetRegion,
      });
      const part = plan.selection
        ? `part of the backup (${plan.selection.categories.map((c) => c.category).join(', ')})`
        : '';
      const message = targetPreviousState
        ? `Restoring ${part} into staging service "${name}", to merge into "${plan.targetName}" (${plan.onCollision} on a name it has); "${plan.targetName}" is RESTORING until then`
        : `Restoring ${part ? `${part} ` : ''}into new service "${plan.targetName}" (${plan.targetEdition}, ${plan.targetRegion})`;
      const lease = { leaseOwner: rt.instanceId, leaseExpiresAt: new Date(Date.now() + LEASE_MS) };
      return transition(tx, plan, 'execute', message, {
        checks,
        serviceId: service.id,
        targetPreviousState,
        ...lease,
        attempts: 1,
      });
    })
    .catch((error) => {
      if (isUniqueViolation(error))
        throw new NameUnavailableError(
          `Another service took the name "${existing.targetName}" just now`,
          existing.targetName,
          null,
        );
      throw error;
    });
  startRestore(rt, restoring);
  return restoring;
}

/** Cancels a plan before or during RESTORING; a started restore is rolled back at once. */
export async function cancelRestorePlan(rt: Runtime, planId: string): Promise<PlanRow> {
  return rt.database.db.transaction(async (tx) => {
    const plan = await lockPlan(tx, planId);
    nextPlanState('cancel', plan.state); // refused before the target is touched
    if (plan.serviceId) await removeRestoreTarget(tx, plan.serviceId);
    const merge = await endMergeOf(tx, plan);
    const message =
      plan.state !== 'RESTORING'
        ? 'Cancelled before it started'
        : merge
          ? `Cancelled; the staging service was removed and "${plan.targetName}" is ${merge} again, unchanged`
          : `Cancelled; the partly restored service "${plan.targetName}" was removed and its name is free`;
    return transition(tx, plan, 'cancel', message, { serviceId: null, leaseOwner: null, leaseExpiresAt: null });
  });
}

/** Removes a SUSPENDED plan's restored service (a restore drill's scratch service) and ends the plan CANCELLED. */
export async function discardRestoredService(rt: Runtime, planId: string, message: string): Promise<PlanRow> {
  return rt.database.db.transaction(async (tx) => {
    const plan = await lockPlan(tx, planId);
    nextPlanState('discard', plan.state); // refused before the service is touched
    if (plan.serviceId) await removeRestoreTarget(tx, plan.serviceId, 'SUSPENDED');
    return transition(tx, plan, 'discard', message, { serviceId: null });
  });
}

/**
 * resumeService: SUSPENDED → ACTIVE. For a restored service it also ends its plan ACTIVE, and is
 * refused while an FTP source conflict of its checklist is open, unless forced.
 */
export async function resumeService(rt: Runtime, serviceId: string, force: boolean): Promise<ServiceRow> {
  return transitionService(rt, serviceId, 'resume', async (tx) => {
    const [plan] = await tx
      .select()
      .from(restorePlans)
      .where(and(eq(restorePlans.serviceId, serviceId), eq(restorePlans.state, 'SUSPENDED')))
      .for('update');
    if (!plan) return;
    const open = (await checklist(tx, serviceId)).filter(
      (item) => item.kind === 'RESOLVE_FTP_SOURCE_CONFLICT' && item.status === 'OPEN',
    );
    if (open.length && !force) throw new ChecklistIncompleteError(open);
    const message = open.length
      ? `Resumed with force while ${open.length} FTP source conflict(s) were open; the service is ACTIVE`
      : 'Resumed; the restored service is ACTIVE';
    await transition(tx, plan, 'resume', message);
  });
}

/** Starts the durable work of a RESTORING plan that this instance holds, on the server's runtime. */
function startRestore(rt: Runtime, plan: PlanRow): void {
  rt.background.run(`restore ${plan.id}`, () => runRestore(rt, plan));
}

/**
 * Fills the RESTORING service from the backup, then moves it to SUSPENDED with its checklist. Any
 * failure rolls everything back: the service and all its rows are removed and the name is free again.
 */
async function runRestore(rt: Runtime, plan: PlanRow): Promise<void> {
  try {
    await fillTarget(rt, plan);
    await finish(rt, plan.id);
  } catch (error) {
    if (error instanceof NotOurs) return;
    rt.log.error({ planId: plan.id, ...describeError(error) }, 'restore failed');
    const reason =
      (error as Error & { operatorMessage?: string }).operatorMessage ??
      'the backup could not be applied; see the server log';
    await rollBack(rt, plan.id, reason, rt.instanceId);
  }
}

async function finish(rt: Runtime, planId: string): Promise<void> {
  await rt.database.db.transaction(async (tx) => {
    const plan = await lockPlan(tx, planId);
    if (plan.state !== 'RESTORING' || plan.leaseOwner !== rt.instanceId) throw new NotOurs();
    if (plan.targetServiceId) return mergeStaged(tx, plan);
    const { after: service } = await applyTransition(tx, plan.serviceId!, 'finishRestore');
    const open = await createChecklist(tx, service.id);
    const message = `Restored; "${service.name}" is SUSPENDED with ${open} checklist item(s) to review before resuming it`;
    await transition(tx, plan, 'finish', message, { leaseOwner: null, leaseExpiresAt: null });
  });
}

/** A merge's staging service is full: its rows move into the target in this one transaction, and the target returns to its state. */
async function mergeStaged(tx: Tx, plan: PlanRow): Promise<void> {
  const target = await lockService(tx, plan.targetServiceId!);
  const counts = await mergeInto(tx, {
    stagingId: plan.serviceId!,
    targetId: target.id,
    policy: plan.onCollision!,
    edition: target.edition,
    scaleUnits: target.scaleUnitCount,
  }).catch((error) => {
    // Said to the operator by the plan's failure; the transaction is rolled back.
    const cause = (error as { cause?: { constraint?: string; constraint_name?: string } }).cause ?? error;
    const operatorMessage = isUniqueViolation(error)
      ? `a restored item has the same key as one of "${target.name}" (${cause.constraint ?? cause.constraint_name})`
      : error instanceof LimitExceededError
        ? error.message
        : undefined;
    throw operatorMessage ? Object.assign(error, { operatorMessage }) : error;
  });
  await removeRestoreTarget(tx, plan.serviceId!);
  const state = await endMergeOf(tx, plan);
  const message = `Merged into "${target.name}": ${counts.moved} item(s) added, ${counts.replaced} replaced, ${counts.renamed} renamed, ${counts.skipped} skipped; "${target.name}" is ${state} again`;
  await transition(tx, plan, 'merge', message, { serviceId: null, leaseOwner: null, leaseExpiresAt: null });
}

/** A RESTORING merge plan's target returns to the state it had (returned); null for a plan that is no merge. */
async function endMergeOf(tx: Tx, plan: PlanRow): Promise<string | null> {
  if (plan.state !== 'RESTORING' || !plan.targetServiceId || !plan.targetPreviousState) return null;
  await endMerge(tx, plan.targetServiceId, plan.targetPreviousState);
  return plan.targetPreviousState;
}

/** Removes what was restored (the target service and, by cascade, all its rows) and ends the plan FAILED. */
async function fail(tx: Tx, plan: PlanRow, reason: string): Promise<void> {
  if (plan.serviceId) await removeRestoreTarget(tx, plan.serviceId);
  const merge = await endMergeOf(tx, plan);
  const message = merge
    ? `Merge failed: ${reason}. Nothing in "${plan.targetName}" changed; it is ${merge} again`
    : `Restore failed: ${reason}. Everything restored so far was removed and the name "${plan.targetName}" is free`;
  await transition(tx, plan, 'fail', message, {
    failureReason: reason,
    serviceId: null,
    leaseOwner: null,
    leaseExpiresAt: null,
  });
}

/** Fails a restore, only while `owner` still holds the lease: an instance that lost it must not undo its successor's work. */
export async function rollBack(rt: Runtime, planId: string, reason: string, owner: string): Promise<void> {
  await rt.database.db.transaction(async (tx) => {
    const plan = await lockPlan(tx, planId);
    if (plan.state === 'RESTORING' && plan.leaseOwner === owner) await fail(tx, plan, reason);
  });
}

/**
 * Restores whose instance died (lease expired; on the embedded database at start, all of them):
 * claims each, removes what was partly restored and starts again from the backup, or after
 * MAX_ATTEMPTS rolls back.
 */
export async function takeOverRestores(rt: Runtime, all: boolean): Promise<number> {
  const { db } = rt.database;
  const now = new Date();
  const expired = or(isNull(restorePlans.leaseExpiresAt), lt(restorePlans.leaseExpiresAt, now));
  const orphans = await db
    .select()
    .from(restorePlans)
    .where(and(eq(restorePlans.state, 'RESTORING'), all ? undefined : expired));
  let taken = 0;
  for (const orphan of orphans) {
    const claimed = await db.transaction(async (tx) => {
      const plan = await lockPlan(tx, orphan.id);
      const stillExpired = !plan.leaseExpiresAt || plan.leaseExpiresAt < now;
      const unchanged = plan.leaseExpiresAt?.getTime() === orphan.leaseExpiresAt?.getTime();
      if (plan.state !== 'RESTORING' || (!all && !stillExpired) || !unchanged) return null;
      if (plan.attempts >= MAX_ATTEMPTS) {
        await fail(tx, plan, `interrupted ${MAX_ATTEMPTS} times`);
        return 'failed' as const;
      }
      await emptyRestoreTarget(tx, plan.serviceId!);
      const attempt = plan.attempts + 1;
      const message = `Taken over after the instance restoring it stopped (attempt ${attempt} of ${MAX_ATTEMPTS}); starting again from the backup`;
      const lease = { leaseOwner: rt.instanceId, leaseExpiresAt: new Date(Date.now() + LEASE_MS) };
      // The plan's serviceId was set null by the row's removal: the same id again.
      return transition(tx, plan, 'takeOver', message, { serviceId: plan.serviceId, ...lease, attempts: attempt });
    });
    if (!claimed) continue;
    taken++;
    if (claimed !== 'failed') startRestore(rt, claimed);
  }
  return taken;
}

/** At shutdown: restores this instance holds are released, so another instance (or the next start) takes them over at once. */
export async function handBackWork(rt: Runtime): Promise<void> {
  await rt.database.db
    .update(restorePlans)
    .set({ leaseOwner: null, leaseExpiresAt: new Date(0) })
    .where(and(eq(restorePlans.state, 'RESTORING'), eq(restorePlans.leaseOwner, rt.instanceId)));
}
