import { and, eq, getTableColumns, inArray, or, sql, type InferSelectModel, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import {
  InvalidStateError,
  NameUnavailableError,
  NotFoundError,
  ValidationError,
  isUniqueViolation,
} from '../errors.js';
import { auditInsertPlaceholders, auditValues, type OwnAuditEntry } from '../audit/service.js';
import type { Runtime } from '../runtime.js';
import { assertAllowed, statesAllowing, type ServiceState } from '../service/rules.js';
import { services } from '../service/tables.js';
import type { Tx } from '../db/query.js';
import { withArticle } from '../service/rules.js';
import { lockService, type ServiceRow } from '../service/service.js';
import { assertWithinLimits, type Usage } from './rules.js';
import { countUsage } from './usage.js';
import * as t from './tables.js';

/** One artifact kind: its table and how errors name it. */
export interface Kind {
  table: PgTable & { id: PgColumn; serviceId: PgColumn };
  typename: string;
  label: string;
}

export const kinds = {
  partner: { table: t.partners, typename: 'Partner', label: 'partner' },
  profile: { table: t.profiles, typename: 'Profile', label: 'profile' },
  agreement: { table: t.agreements, typename: 'Agreement', label: 'agreement' },
  customAssembly: { table: t.customAssemblies, typename: 'CustomAssembly', label: 'custom assembly' },
  bridge: { table: t.bridges, typename: 'Bridge', label: 'bridge' },
  certificate: { table: t.certificates, typename: 'Certificate', label: 'certificate' },
  transform: { table: t.transforms, typename: 'Transform', label: 'transform' },
  pipeline: { table: t.pipelines, typename: 'Pipeline', label: 'pipeline' },
  template: { table: t.templates, typename: 'Template', label: 'template' },
  x12Mapping: { table: t.x12Mappings, typename: 'X12Mapping', label: 'X12 mapping' },
  hybridConnection: { table: t.hybridConnections, typename: 'HybridConnection', label: 'hybrid connection' },
} satisfies Record<string, Kind>;

/** Unique constraints and how to tell the operator which value is taken. */
const uniqueMessages: Record<string, (v: Record<string, unknown>) => [string, string]> = {
  profiles_service_identity_key: (v) => [
    `${v.qualifier}:${v.identifier}`,
    `Another profile of this service already has qualifier ${v.qualifier} and identifier ${v.identifier}`,
  ],
  bridges_service_address_key: (v) => [
    String(v.relativeAddress),
    `Another bridge of this service already listens at ${v.relativeAddress}`,
  ],
  x12_mappings_service_st01_key: (v) => [
    String(v.st01),
    `This service already maps ST01 ${v.st01}; update that mapping instead`,
  ],
};

function translateUnique(error: unknown, kind: Kind, values: Record<string, unknown>): never {
  if (isUniqueViolation(error)) {
    const cause = ((error as { cause?: unknown }).cause ?? error) as { constraint?: string; constraint_name?: string };
    const constraint = cause.constraint ?? cause.constraint_name ?? '';
    const [taken, message] = uniqueMessages[constraint]?.(values) ?? [
      String(values.name),
      `${withArticle(kind.label)} named "${values.name}" already exists in this service`,
    ];
    throw new NameUnavailableError(message, taken, null);
  }
  throw error;
}

/** Runs `change` with the service locked and open to artifact changes (not RESTORING or DELETED). */
export async function inService<T>(tx: Tx, serviceId: string, change: (service: ServiceRow) => Promise<T>): Promise<T> {
  const service = await lockService(tx, serviceId);
  assertAllowed('changeArtifacts', service.state, service.name);
  return change(service);
}

/** Usage after a change still fits the service's edition and units. */
export async function assertCapacity(tx: Tx, service: ServiceRow, extra: Partial<Usage>): Promise<void> {
  const usage = await countUsage(tx, service.id);
  assertWithinLimits(service.edition, service.scaleUnitCount, {
    agreements: usage.agreements + (extra.agreements ?? 0),
    bridges: usage.bridges + (extra.bridges ?? 0),
    hybridConnections: usage.hybridConnections + (extra.hybridConnections ?? 0),
  });
}

export async function createArtifact<Row>(
  rt: Runtime,
  kind: Kind,
  serviceId: string,
  values: Record<string, unknown>,
  hooks: {
    /** Checks with the service locked, before the insert (limits, references). */
    before?: (tx: Tx, service: ServiceRow) => Promise<void>;
    /** Rows that belong with the new artifact, in the same transaction. */
    after?: (tx: Tx, row: Row) => Promise<void>;
  } = {},
): Promise<Row> {
  return rt.database.db.transaction((tx) =>
    inService(tx, serviceId, async (service) => {
      await hooks.before?.(tx, service);
      const [row] = (await tx
        .insert(kind.table)
        .values({ ...values, serviceId } as never)
        .returning()
        .catch((error) => translateUnique(error, kind, values))) as Row[];
      await hooks.after?.(tx, row!);
      return row!;
    }),
  );
}

/** A prepared one-statement change: its SQL built once per shape and database session. */
type PreparedChange = { execute(values: Record<string, unknown>): Promise<unknown[]> };
const preparedChanges = new WeakMap<object, Map<string, PreparedChange>>();

/**
 * One artifact change as one statement (one round trip, atomic as any statement), for a mutation that
 * writes its audit entry in that statement. `target` is a query of one row with the columns \`id\` (the
 * service's, for a create; the artifact's, for an update), \`service_name\` and \`service_state\`, which
 * locks the service FOR SHARE (a change of its state waits for the statement, and it for one); `change`
 * is the INSERT or UPDATE of the kind's table \`from target\`, `returning *`, and runs only while the
 * service is open to artifact changes (`open`, a condition on target's columns). Both take their values
 * as placeholders (`params`, with the time `at`), so the statement is built and prepared once per
 * `shape`. Nothing is written (the audit entry neither) unless the row is; the errors are those of
 * the transactional path: `missing` when target finds no row, the service's state, a taken name.
 */
async function changeInOneStatement<K extends Kind>(
  rt: Runtime,
  kind: K,
  statement: {
    shape: string;
    target: () => SQL;
    change: (open: SQL) => SQL;
    params: Record<string, unknown>;
    values: Record<string, unknown>;
    missing: () => Error;
  },
  audit: OwnAuditEntry,
): Promise<InferSelectModel<K['table']>> {
  const entry = audit.entry();
  if (!entry) throw new TypeError('changeInOneStatement: the audit entry is already written');
  const db = rt.database.db;
  // Per session: the handle audited() and idempotent() hand over is a clone sharing the session.
  const session = (db as unknown as { session: object }).session;
  const cache = preparedChanges.get(session) ?? new Map<string, PreparedChange>();
  preparedChanges.set(session, cache);
  const key = `${kind.typename} ${statement.shape}`;
  let prepared = cache.get(key);
  if (!prepared) {
    const open = sql`service_state in (${sql.join(
      statesAllowing('changeArtifacts').map((state) => sql`${state}`),
      sql`, `,
    )})`;
    const target = db
      .$with('target', {
        serviceName: sql<string>`service_name`.as('service_name'),
        serviceState: sql<ServiceState>`service_state`.as('service_state'),
      })
      .as(statement.target());
    const columns = getTableColumns(kind.table);
    const changed = db.$with('changed', columns).as(statement.change(open));
    const audited = db.$with('audited', {}).as(auditInsertPlaceholders(sql`changed`));
    prepared = db
      .with(target, changed, audited)
      .select({
        serviceName: target.serviceName,
        serviceState: target.serviceState,
        // The CTE's columns one by one (the CTE itself would select one record value).
        row: Object.fromEntries(
          Object.keys(columns).map((key) => [key, changed[key as keyof typeof changed]]),
        ) as Record<string, PgColumn>,
      })
      .from(target)
      .leftJoin(changed, sql`true`)
      .prepare(`change_${kind.typename}`) as unknown as PreparedChange;
    cache.set(key, prepared);
  }
  const at = new Date();
  const [found] = (await prepared
    .execute({ ...statement.params, at: at.toISOString(), ...auditValues(entry, at) })
    .catch((error) => translateUnique(error, kind, statement.values))) as {
    serviceName: string;
    serviceState: ServiceState;
    row: InferSelectModel<K['table']> | null;
  }[];
  if (!found) throw statement.missing();
  if (!found.row) {
    assertAllowed('changeArtifacts', found.serviceState, found.serviceName);
    throw statement.missing();
  }
  audit.written();
  return found.row;
}

const param = (name: string) => sql.placeholder(name);
const at = sql`${param('at')}::timestamptz`;

/** A new partner in one statement (see changeInOneStatement): the service open to artifact changes, the name free. */
export function createPartnerInOneStatement(rt: Runtime, serviceId: string, name: string, audit: OwnAuditEntry) {
  return changeInOneStatement(
    rt,
    kinds.partner,
    {
      shape: 'create',
      target: () =>
        sql`select id, name as service_name, state as service_state from ${services} where id = ${param('id')}::uuid for share`,
      change: (open) => sql`insert into ${t.partners} (service_id, name, created_at, updated_at)
        select id, ${param('name')}, ${at}, ${at} from target where ${open} returning *`,
      params: { id: serviceId, name },
      values: { name },
      missing: () => new NotFoundError('Service', serviceId),
    },
    audit,
  );
}

/**
 * Sets columns of an agreement in one statement (see changeInOneStatement), for the changes that need
 * no rows of another slice to agree with them (its name, source FTP folder, batching turned on).
 */
export function updateAgreementInOneStatement(
  rt: Runtime,
  id: string,
  values: Partial<Pick<typeof t.agreements.$inferSelect, 'name' | 'sourceFtpFolder' | 'batching'>>,
  audit: OwnAuditEntry,
) {
  const columns = getTableColumns(t.agreements);
  const keys = Object.keys(values) as (keyof typeof values)[];
  return changeInOneStatement(
    rt,
    kinds.agreement,
    {
      shape: `update ${keys.join(' ')}`,
      target: () => sql`select a.id, s.name as service_name, s.state as service_state
        from ${t.agreements} a join ${services} s on s.id = a.service_id where a.id = ${param('id')}::uuid for share of s`,
      change: (open) =>
        sql`update ${t.agreements} a set ${sql.join(
          [
            ...keys.map((key) => sql`${sql.identifier(columns[key].name)} = ${param(`set_${key}`)}`),
            sql`updated_at = ${at}`,
          ],
          sql`, `,
        )} from target where a.id = target.id and ${open} returning a.*`,
      params: { id, ...Object.fromEntries(keys.map((key) => [`set_${key}`, values[key]])) },
      values,
      missing: () => new NotFoundError(kinds.agreement.typename, id),
    },
    audit,
  );
}

/** The artifact row, read inside the transaction after its service is locked. */
export async function findArtifact<Row>(tx: Tx, kind: Kind, id: string): Promise<Row & { serviceId: string }> {
  const [row] = await tx
    .select()
    .from(kind.table as PgTable)
    .where(eq(kind.table.id, id));
  if (!row) throw new NotFoundError(kind.typename, id);
  return row as Row & { serviceId: string };
}

/** Locks the artifact's service, then applies `change` (which returns the columns to set). */
export async function updateArtifact<Row>(
  rt: Runtime,
  kind: Kind,
  id: string,
  change: (row: Row, tx: Tx, service: ServiceRow) => Promise<Record<string, unknown>> | Record<string, unknown>,
): Promise<Row> {
  return rt.database.db.transaction(async (tx) => {
    const { serviceId } = await findArtifact<Row>(tx, kind, id);
    return inService(tx, serviceId, async (service) => {
      const row = await findArtifact<Row>(tx, kind, id);
      const values = await change(row, tx, service);
      try {
        const [updated] = await tx
          .update(kind.table)
          .set({ ...values, updatedAt: new Date() } as never)
          .where(eq(kind.table.id, id))
          .returning();
        return updated as Row;
      } catch (error) {
        translateUnique(error, kind, { ...row, ...values });
      }
    });
  });
}

export async function deleteArtifact(
  rt: Runtime,
  kind: Kind,
  id: string,
  guard?: (tx: Tx, row: Record<string, unknown>) => Promise<void>,
): Promise<{ id: string; serviceId: string }> {
  return rt.database.db.transaction(async (tx) => {
    const { serviceId } = await findArtifact(tx, kind, id);
    return inService(tx, serviceId, async () => {
      const row = await findArtifact<Record<string, unknown>>(tx, kind, id);
      await guard?.(tx, row);
      await tx.delete(kind.table).where(eq(kind.table.id, id));
      return { id, serviceId };
    });
  });
}

/** A profile (or a partner's profiles) that an agreement uses cannot be deleted. */
export async function assertProfilesUnused(tx: Tx, profileIds: string[], what: string): Promise<void> {
  for (const profileId of profileIds) {
    const [used] = await tx
      .select({ name: t.agreements.name })
      .from(t.agreements)
      .where(or(eq(t.agreements.hostProfileId, profileId), eq(t.agreements.guestProfileId, profileId)))
      .orderBy(t.agreements.name)
      .limit(1);
    if (used)
      throw new InvalidStateError(
        `Cannot delete ${what}: agreement "${used.name}" uses it; delete or change that agreement first`,
        'IN_USE',
      );
  }
}

/** An agreement is made between a profile of the hosting partner and one of another partner, both of this service. */
export async function assertAgreementProfiles(
  tx: Tx,
  serviceId: string,
  hostProfileId: string,
  guestProfileId: string,
): Promise<void> {
  const found = await tx
    .select({ id: t.profiles.id, partnerId: t.profiles.partnerId })
    .from(t.profiles)
    .where(and(eq(t.profiles.serviceId, serviceId), inArray(t.profiles.id, [hostProfileId, guestProfileId])));
  const [host, guest] = [found.find((p) => p.id === hostProfileId), found.find((p) => p.id === guestProfileId)];
  if (!host) throw ValidationError.field(['input', 'hostProfileId'], 'is not a profile of this service');
  if (!guest) throw ValidationError.field(['input', 'guestProfileId'], 'is not a profile of this service');
  if (host.partnerId === guest.partnerId)
    throw ValidationError.field(['input', 'guestProfileId'], 'must belong to another partner than the host profile');
}
