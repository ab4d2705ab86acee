import { count, eq, sql } from 'drizzle-orm';
import { agreements } from '../artifact/tables.js';
import { auditInsertFrom, type OwnAuditEntry } from '../audit/service.js';
import { InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tx } from '../db/query.js';
import { services } from '../service/tables.js';
import { CONTROL_NUMBER_MAX, validControlNumber } from './rules.js';
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
 * Sends one message through an agreement in one statement (one round trip, atomic as any statement):
 * locks the agreement and its service (shared: messages flow side by side, while a change of the
 * agreement or of the service's state waits for them), issues the next interchange, group and
 * transaction set numbers (the UPDATE's row lock orders concurrent senders), raises the lineage's
 * high-water marks, records the AS2 MIC, holds the message in the batch when the agreement batches,
 * and writes the mutation's audit entry when given one. Nothing is written unless the numbers are.
 */
export async function processEdiMessage(
  rt: Runtime,
  agreementId: string,
  payload: string,
  audit?: OwnAuditEntry,
): Promise<ProcessedMessage> {
  if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES)
    throw ValidationError.field(['input', 'payload'], `must be at most ${MAX_PAYLOAD_BYTES} bytes`);
  const now = new Date();
  const at = sql`${now.toISOString()}::timestamptz`;
  const entry = audit?.entry() ?? null;
  const result = await rt.database.db.execute(sql`
    with traffic as (
      select a.id, a.lineage_id, a.protocol, a.batching, s.name as service_name, s.state as service_state
      from ${agreements} a join ${services} s on s.id = a.service_id
      where a.id = ${agreementId}::uuid
      for share
    ), issued as (
      update ${controlNumbers} c
      set interchange = c.interchange + 1, "group" = c."group" + 1, transaction_set = c.transaction_set + 1, updated_at = ${at}
      from traffic t where c.agreement_id = t.id and t.service_state = 'ACTIVE'
      returning c.interchange, c."group", c.transaction_set
    ), high_water as (
      insert into ${controlNumberHighWater} (lineage_id, interchange, "group", transaction_set, updated_at)
      select t.lineage_id, i.interchange, i."group", i.transaction_set, ${at} from traffic t, issued i
      on conflict (lineage_id) do update set
        interchange = greatest(${controlNumberHighWater}.interchange, excluded.interchange),
        "group" = greatest(${controlNumberHighWater}."group", excluded."group"),
        transaction_set = greatest(${controlNumberHighWater}.transaction_set, excluded.transaction_set),
        updated_at = excluded.updated_at
    ), mic as (
      insert into ${as2MicValues} (agreement_id, message_id, algorithm, value, created_at)
      select t.id, '<' || gen_random_uuid() || '@' || t.service_name || '.biztalk.windows.net>', 'sha-256',
        encode(sha256(convert_to(${payload}, 'UTF8')), 'base64'), ${at}
      from traffic t, issued where t.protocol = 'AS2'
      returning message_id, algorithm, value
    ), batch as (
      insert into ${batchMessages} (agreement_id, payload, transaction_set, created_at)
      select t.id, ${payload}, ((i.transaction_set - 1) % ${CONTROL_NUMBER_MAX}) + 1, ${at}
      from traffic t, issued i where t.batching
    )${entry ? sql`, audit as (${auditInsertFrom(entry, sql`issued`, now)})` : sql``}
    select t.service_name, t.service_state, t.batching, i.interchange, i."group", i.transaction_set,
      m.message_id, m.algorithm, m.value
    from traffic t left join issued i on true left join mic m on true`);
  const [row] = ((result as { rows?: unknown }).rows ?? result) as {
    service_name: string;
    service_state: string;
    batching: boolean;
    interchange: string | number | null;
    group: string | number | null;
    transaction_set: string | number | null;
    message_id: string | null;
    algorithm: string | null;
    value: string | null;
  }[];
  if (!row) throw new NotFoundError('Agreement', agreementId);
  if (row.service_state !== 'ACTIVE') {
    throw new InvalidStateError(
      `Service "${row.service_name}" is ${row.service_state}; messages flow only through an ACTIVE service`,
      row.service_state,
    );
  }
  if (row.interchange === null) throw new NotFoundError('Agreement', agreementId);
  if (entry) audit!.written();
  return {
    agreementId,
    controlNumbers: {
      interchange: Number(row.interchange),
      group: Number(row.group),
      transactionSet: Number(row.transaction_set),
    },
    mic: row.message_id ? { messageId: row.message_id, algorithm: row.algorithm!, value: row.value! } : null,
    batched: row.batching,
  };
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
