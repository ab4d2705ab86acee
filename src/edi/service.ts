import { createHash, randomUUID } from 'node:crypto';
import { count, eq, sql } from 'drizzle-orm';
import { agreements } from '../artifact/tables.js';
import { InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tx } from '../db/query.js';
import { services } from '../service/tables.js';
import { CONTROL_NUMBER_MAX, controlNumber, validControlNumber } from './rules.js';
import { as2MicValues, batchMessages, controlNumberHighWater, controlNumbers } from './tables.js';

export const MAX_PAYLOAD_BYTES = 1024 * 1024;

type Positions = { interchange: number; group: number; transactionSet: number };

/** Raises the lineage's high-water marks to at least these positions (never lowers them). */
async function raiseHighWater(tx: Tx, lineageId: string, positions: Positions): Promise<void> {
  await tx
    .insert(controlNumberHighWater)
    .values({ lineageId, ...positions, updatedAt: new Date() })
    .onConflictDoUpdate({
      target: controlNumberHighWater.lineageId,
      set: {
        interchange: sql`greatest(${controlNumberHighWater.interchange}, excluded.interchange)`,
        group: sql`greatest(${controlNumberHighWater.group}, excluded."group")`,
        transactionSet: sql`greatest(${controlNumberHighWater.transactionSet}, excluded.transaction_set)`,
        updatedAt: sql`excluded.updated_at`,
      },
    });
}

/** A new agreement starts with no number issued. */
export async function startControlNumbers(tx: Tx, agreementId: string): Promise<void> {
  await tx.insert(controlNumbers).values({ agreementId });
}

/** An operator sets the last-issued numbers to continue from (as BizTalk's agreement settings allow). */
export async function setControlNumbers(
  tx: Tx,
  agreement: { id: string; lineageId: string },
  values: Positions,
): Promise<void> {
  for (const [field, value] of Object.entries(values)) {
    if (!validControlNumber(value))
      throw ValidationError.field(['input', 'controlNumbers', field], `must be from 0 to ${CONTROL_NUMBER_MAX}`);
  }
  await tx
    .update(controlNumbers)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(controlNumbers.agreementId, agreement.id));
  await raiseHighWater(tx, agreement.lineageId, values);
}

export async function assertBatchEmpty(tx: Tx, agreementId: string): Promise<void> {
  const [row] = await tx.select({ n: count() }).from(batchMessages).where(eq(batchMessages.agreementId, agreementId));
  if (row!.n > 0)
    throw new InvalidStateError(
      `The agreement's batch holds ${row!.n} message(s); release the batch first`,
      'BATCH_NOT_EMPTY',
    );
}

/** The agreement with its service's name and state, for the runtime operations. */
async function agreementForTraffic(tx: Tx, agreementId: string) {
  const [row] = await tx
    .select({ agreement: agreements, serviceName: services.name, serviceState: services.state })
    .from(agreements)
    .innerJoin(services, eq(services.id, agreements.serviceId))
    .where(eq(agreements.id, agreementId))
    // Shared locks: messages flow side by side, while a change of the agreement (batching off,
    // delete) or of the service's state waits for them, and they for it.
    .for('share');
  if (!row) throw new NotFoundError('Agreement', agreementId);
  if (row.serviceState !== 'ACTIVE') {
    throw new InvalidStateError(
      `Service "${row.serviceName}" is ${row.serviceState}; messages flow only through an ACTIVE service`,
      row.serviceState,
    );
  }
  return row;
}

export interface ProcessedMessage {
  agreementId: string;
  controlNumbers: Positions;
  mic: { messageId: string; algorithm: string; value: string } | null;
  batched: boolean;
}

/**
 * Sends one message through an agreement: issues the next interchange, group and transaction set
 * numbers atomically (the UPDATE's row lock orders concurrent senders), records the AS2 MIC, and
 * holds the message in the batch when the agreement batches.
 */
export async function processEdiMessage(rt: Runtime, agreementId: string, payload: string): Promise<ProcessedMessage> {
  if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES)
    throw ValidationError.field(['input', 'payload'], `must be at most ${MAX_PAYLOAD_BYTES} bytes`);
  return rt.database.db.transaction(async (tx) => {
    const { agreement, serviceName } = await agreementForTraffic(tx, agreementId);
    const [issued] = await tx
      .update(controlNumbers)
      .set({
        interchange: sql`${controlNumbers.interchange} + 1`,
        group: sql`${controlNumbers.group} + 1`,
        transactionSet: sql`${controlNumbers.transactionSet} + 1`,
        updatedAt: new Date(),
      })
      .where(eq(controlNumbers.agreementId, agreementId))
      .returning({
        interchange: controlNumbers.interchange,
        group: controlNumbers.group,
        transactionSet: controlNumbers.transactionSet,
      });
    if (!issued) throw new NotFoundError('Agreement', agreementId);
    await raiseHighWater(tx, agreement.lineageId, issued);
    let mic: ProcessedMessage['mic'] = null;
    if (agreement.protocol === 'AS2') {
      mic = {
        messageId: `<${randomUUID()}@${serviceName}.biztalk.windows.net>`,
        algorithm: 'sha-256',
        value: createHash('sha256').update(payload).digest('base64'),
      };
      await tx.insert(as2MicValues).values({ agreementId, ...mic });
    }
    if (agreement.batching) {
      await tx
        .insert(batchMessages)
        .values({ agreementId, payload, transactionSet: controlNumber(issued.transactionSet) });
    }
    return { agreementId, controlNumbers: issued, mic, batched: agreement.batching };
  });
}

/** Processes the messages waiting in an agreement's batch and empties it; returns how many were released. */
export async function releaseBatch(rt: Runtime, agreementId: string): Promise<number> {
  return rt.database.db.transaction(async (tx) => {
    const { agreement } = await agreementForTraffic(tx, agreementId);
    if (!agreement.batching)
      throw new InvalidStateError(`Agreement "${agreement.name}" does not batch`, 'NOT_BATCHING');
    const released = await tx
      .delete(batchMessages)
      .where(eq(batchMessages.agreementId, agreementId))
      .returning({ id: batchMessages.id });
    return released.length;
  });
}
