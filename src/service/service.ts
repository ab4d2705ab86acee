import { and, eq, sql } from 'drizzle-orm';
import { assertWithinLimits } from '../artifact/rules.js';
import { countUsage } from '../artifact/usage.js';
import type { Database } from '../db/client.js';
import type { Tx } from '../db/query.js';
import {
  InvalidStateError,
  NameUnavailableError,
  NotFoundError,
  ValidationError,
  isUniqueViolation,
} from '../errors.js';
import { publishOnCommit } from '../events/bus.js';
import type { Runtime } from '../runtime.js';
import {
  DEFAULT_PRODUCT_VERSION,
  assertAllowed,
  editionInfo,
  nameHoldEnds,
  nameProblem,
  nextState,
  validateName,
  validateRegion,
  validateScaleUnits,
  withArticle,
  type Edition,
  type LifecycleOperation,
  type SecretKind,
  type ServiceState,
} from './rules.js';
import { serviceSecrets, services } from './tables.js';

export type ServiceRow = typeof services.$inferSelect;

export interface NameAvailability {
  name: string;
  available: boolean;
  reason: string | null;
  availableAt: Date | null;
  /** State of the live service that has the name, if one does. */
  holderState: ServiceState | null;
}

/** Whether `name` can be given to a new service now, and if not why and until when. */
export async function nameAvailability(rt: Runtime, db: Database | Tx, name: string): Promise<NameAvailability> {
  const problem = nameProblem(name);
  if (problem)
    return {
      name,
      available: false,
      reason: `Not a valid service name: it ${problem}`,
      availableAt: null,
      holderState: null,
    };
  const [holder] = await db
    .select({ state: services.state, deletedAt: services.deletedAt })
    .from(services)
    .where(eq(services.name, name))
    .orderBy(sql`${services.deletedAt} desc nulls first`)
    .limit(1);
  if (!holder) return { name, available: true, reason: null, availableAt: null, holderState: null };
  if (holder.state !== 'DELETED') {
    return {
      name,
      available: false,
      reason: `${withArticle(holder.state)} service has this name; delete it first or pick another name`,
      availableAt: null,
      holderState: holder.state,
    };
  }
  const availableAt = nameHoldEnds(holder.deletedAt!, rt.config.nameHoldSeconds);
  if (availableAt > new Date()) {
    return {
      name,
      available: false,
      reason: `The name is on hold after its service was deleted; it becomes free at ${availableAt.toISOString()}`,
      availableAt,
      holderState: null,
    };
  }
  return { name, available: true, reason: null, availableAt: null, holderState: null };
}

export interface CreateServiceInput {
  name: string;
  edition: Edition;
  region: string;
  scaleUnitCount?: number | null;
  productVersion?: string | null;
}

export async function createService(rt: Runtime, input: CreateServiceInput): Promise<ServiceRow> {
  validateName(input.name, ['input', 'name']);
  validateRegion(input.region, ['input', 'region']);
  const scaleUnitCount = input.scaleUnitCount ?? editionInfo(input.edition).minScaleUnits;
  validateScaleUnits(input.edition, scaleUnitCount);
  const productVersion = input.productVersion ?? DEFAULT_PRODUCT_VERSION;
  if (!/^\d+(\.\d+){0,3}$/.test(productVersion)) {
    throw ValidationError.field(['input', 'productVersion'], 'must be a version such as 1.0 or 3.2.1');
  }
  const row = await rt.database.db.transaction(async (tx) => {
    const availability = await nameAvailability(rt, tx, input.name);
    if (!availability.available)
      throw new NameUnavailableError(availability.reason!, input.name, availability.availableAt);
    try {
      const [created] = await tx
        .insert(services)
        .values({
          name: input.name,
          edition: input.edition,
          region: input.region,
          scaleUnitCount,
          productVersion,
          state: 'ACTIVE',
        })
        .returning();
      await publishOnCommit(tx, 'serviceStateChanged', {
        serviceId: created!.id,
        previousState: null,
        state: created!.state,
        at: created!.createdAt.toISOString(),
      });
      return created!;
    } catch (error) {
      // Two creates racing for one name: the partial unique index lets exactly one win.
      if (isUniqueViolation(error))
        throw new NameUnavailableError(`Another service took the name "${input.name}" just now`, input.name, null);
      throw error;
    }
  });
  return row;
}

/** The service row locked for the rest of the transaction, so concurrent changes queue up. */
export async function lockService(tx: Tx, id: string): Promise<ServiceRow> {
  const [row] = await tx.select().from(services).where(eq(services.id, id)).for('update');
  if (!row) throw new NotFoundError('Service', id);
  return row;
}

/**
 * A state-machine transition: start, stop, restart, suspend, resume or delete. `inTx` lets another
 * slice check or change its own rows in the same transaction (a restore's checklist and plan on
 * resume).
 */
export async function transitionService(
  rt: Runtime,
  id: string,
  operation: LifecycleOperation,
  inTx?: (tx: Tx, before: ServiceRow, after: ServiceRow) => Promise<void>,
): Promise<ServiceRow> {
  return rt.database.db.transaction(async (tx) => {
    const { before, after } = await applyTransition(tx, id, operation);
    await inTx?.(tx, before, after);
    return after;
  });
}

/** A transition inside the caller's transaction (a restore ending moves its target), published on commit. */
export async function applyTransition(
  tx: Tx,
  id: string,
  operation: LifecycleOperation,
): Promise<{ before: ServiceRow; after: ServiceRow }> {
  const before = await lockService(tx, id);
  assertAllowed(operation, before.state, before.name);
  const now = new Date();
  const [after] = await tx
    .update(services)
    .set({
      state: nextState(operation, before.state),
      updatedAt: now,
      ...(operation === 'delete' ? { deletedAt: now } : {}),
    })
    .where(eq(services.id, id))
    .returning();
  await publishOnCommit(tx, 'serviceStateChanged', {
    serviceId: id,
    previousState: before.state,
    state: after!.state,
    at: after!.updatedAt.toISOString(),
  });
  return { before, after: after! };
}

/** What a restore creates: its target service, RESTORING, in the transaction that starts the restore. */
export async function createRestoreTarget(
  tx: Tx,
  target: { name: string; edition: Edition; region: string },
): Promise<ServiceRow> {
  const [created] = await tx
    .insert(services)
    .values({ ...target, scaleUnitCount: 1, productVersion: DEFAULT_PRODUCT_VERSION, state: 'RESTORING' })
    .returning();
  await publishOnCommit(tx, 'serviceStateChanged', {
    serviceId: created!.id,
    previousState: null,
    state: 'RESTORING',
    at: created!.createdAt.toISOString(),
  });
  return created!;
}

/**
 * Removes a restore's target and, by cascade, everything restored into it (a restore that failed or
 * was cancelled, RESTORING; a restore drill's scratch service, SUSPENDED and never resumed): its name
 * is free at once. Subscribers see it go to DELETED.
 */
export async function removeRestoreTarget(
  tx: Tx,
  id: string,
  state: 'RESTORING' | 'SUSPENDED' = 'RESTORING',
): Promise<void> {
  const [removed] = await tx
    .delete(services)
    .where(and(eq(services.id, id), eq(services.state, state)))
    .returning({ id: services.id });
  if (!removed) return;
  await publishOnCommit(tx, 'serviceStateChanged', {
    serviceId: id,
    previousState: state,
    state: 'DELETED',
    at: new Date().toISOString(),
  });
}

/** Empties a restore's target for another attempt: the row is made again (same id), its restored rows go by cascade. */
export async function emptyRestoreTarget(tx: Tx, id: string): Promise<void> {
  const old = await lockService(tx, id);
  if (old.state !== 'RESTORING')
    throw new InvalidStateError(`Service "${old.name}" is ${old.state}, not RESTORING`, old.state);
  await tx.delete(services).where(eq(services.id, id));
  await tx.insert(services).values({ ...old, scaleUnitCount: 1, acsNamespace: null, updatedAt: new Date() });
}

/** A sealed secret as a backup keeps it: restored as it is, never opened. */
export interface SealedSecret {
  kind: SecretKind;
  sealed: string;
  fingerprint: string;
  updatedAt: Date;
}

/** The settings a backup holds, restored into a restore's target (secrets stay sealed as they were). */
export async function restoreServiceSettings(
  tx: Tx,
  id: string,
  settings: { scaleUnitCount?: number; productVersion?: string; acsNamespace?: string | null },
  secrets: SealedSecret[],
): Promise<void> {
  if (Object.keys(settings).length)
    await tx
      .update(services)
      .set(settings)
      .where(and(eq(services.id, id), eq(services.state, 'RESTORING')));
  if (secrets.length) await tx.insert(serviceSecrets).values(secrets.map((s) => ({ serviceId: id, ...s })));
}

export async function scaleService(rt: Runtime, id: string, scaleUnitCount: number): Promise<ServiceRow> {
  return rt.database.db.transaction(async (tx) => {
    const row = await lockService(tx, id);
    assertAllowed('scale', row.state, row.name);
    validateScaleUnits(row.edition, scaleUnitCount);
    // Scaling down must leave room for what the service already has.
    assertWithinLimits(row.edition, scaleUnitCount, await countUsage(tx, id));
    const [updated] = await tx
      .update(services)
      .set({ scaleUnitCount, updatedAt: new Date() })
      .where(eq(services.id, id))
      .returning();
    return updated!;
  });
}

/** New values for settings: a field left out keeps its value; a secret set to null is cleared. */
export interface SettingsChange {
  acsNamespace?: string | null;
  secrets: Partial<Record<SecretKind, string | null>>;
}

export async function updateServiceSettings(rt: Runtime, id: string, change: SettingsChange): Promise<ServiceRow> {
  if (change.acsNamespace != null && !/^[a-z][a-z0-9-]{2,48}[a-z0-9]$/i.test(change.acsNamespace)) {
    throw ValidationError.field(
      ['input', 'acsNamespace'],
      'must be 4 to 50 letters, digits or hyphens, starting with a letter',
    );
  }
  return rt.database.db.transaction(async (tx) => {
    const row = await lockService(tx, id);
    assertAllowed('updateSettings', row.state, row.name);
    if (change.secrets.ARCHIVING_STORAGE_CONNECTION_STRING && !editionInfo(row.edition).archiving) {
      throw ValidationError.field(
        ['input', 'archivingStorageConnectionString'],
        `the ${row.edition} edition has no archiving; only DEVELOPER and PREMIUM do`,
      );
    }
    const now = new Date();
    for (const [kind, value] of Object.entries(change.secrets) as [SecretKind, string | null | undefined][]) {
      if (value === undefined) continue;
      if (value === null) {
        await tx.delete(serviceSecrets).where(and(eq(serviceSecrets.serviceId, id), eq(serviceSecrets.kind, kind)));
        continue;
      }
      const sealed = { sealed: rt.secrets.seal(value), fingerprint: rt.secrets.fingerprint(value), updatedAt: now };
      await tx
        .insert(serviceSecrets)
        .values({ serviceId: id, kind, ...sealed })
        .onConflictDoUpdate({ target: [serviceSecrets.serviceId, serviceSecrets.kind], set: sealed });
    }
    const [updated] = await tx
      .update(services)
      .set({ updatedAt: now, ...(change.acsNamespace !== undefined ? { acsNamespace: change.acsNamespace } : {}) })
      .where(eq(services.id, id))
      .returning();
    return updated!;
  });
}

/** The states a service may be in to have a restore merged into it. */
export const mergeableStates = ['SUSPENDED', 'STOPPED'] as const;
export type MergeableState = (typeof mergeableStates)[number];

/** Refuses a merge target that is not SUSPENDED or STOPPED (nothing may run while rows move into it). */
export function assertMergeable(service: ServiceRow): MergeableState {
  if (!(mergeableStates as readonly string[]).includes(service.state))
    throw new InvalidStateError(
      `Service "${service.name}" is ${service.state}; a restore can be merged only into a SUSPENDED or STOPPED service (stop or suspend it first)`,
      service.state,
    );
  return service.state as MergeableState;
}

async function setMergeState(tx: Tx, service: ServiceRow, state: ServiceState): Promise<ServiceRow> {
  const [after] = await tx
    .update(services)
    .set({ state, updatedAt: new Date() })
    .where(eq(services.id, service.id))
    .returning();
  await publishOnCommit(tx, 'serviceStateChanged', {
    serviceId: service.id,
    previousState: service.state,
    state,
    at: after!.updatedAt.toISOString(),
  });
  return after!;
}

/**
 * A merge starts: the target, SUSPENDED or STOPPED, is RESTORING until it ends (no artifact change,
 * start or delete meanwhile). Returns the state it returns to.
 */
export async function beginMerge(tx: Tx, id: string): Promise<MergeableState> {
  const before = await lockService(tx, id);
  const previous = assertMergeable(before);
  await setMergeState(tx, before, 'RESTORING');
  return previous;
}

/** A merge ended (merged, failed or cancelled): its target returns to the state it had before. */
export async function endMerge(tx: Tx, id: string, previous: MergeableState): Promise<void> {
  const before = await lockService(tx, id);
  if (before.state === 'RESTORING') await setMergeState(tx, before, previous);
}
