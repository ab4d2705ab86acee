import type { ObjectRef } from '@pothos/core';
import type { InferSelectModel } from 'drizzle-orm';
import { InvalidStateError, NameUnavailableError, NotFoundError } from '../errors.js';
import type { Types } from '../graphql/builder.js';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { defineMutation } from '../graphql/mutation.js';
import { Service } from '../service/graphql.js';
import type { Runtime } from '../runtime.js';
import * as ops from './service.js';

// What create/update/delete mutations of every artifact kind share.
export const errors = [NotFoundError, InvalidStateError, NameUnavailableError];

/** What create<Kind>/update<Kind> resolve to: the artifact's row as it is now. */
export interface ArtifactChange<Row> {
  row: Row;
}

/** create<Kind>/update<Kind> results carry the artifact as it is now, under the field `field`. */
export function successFields<Row extends object>(field: string, type: ObjectRef<Types, Row>) {
  // Seen as any object inside: Pothos cannot work out its field types for a generic Row.
  const artifact: ObjectRef<Types, object> = type;
  return (t: PothosSchemaTypes.ObjectFieldBuilder<Types, ArtifactChange<Row>>) => ({
    [field]: t.field({ type: artifact, description: `The ${field} as it is now.`, resolve: (r) => r.row }),
  });
}

/** The row of an artifact kind, as its table selects it. */
export type RowOf<K extends ops.Kind> = InferSelectModel<K['table']>;

/** ops.createArtifact, returning the row type of the kind's table. */
export function createArtifact<K extends ops.Kind>(
  rt: Runtime,
  kind: K,
  serviceId: string,
  values: Record<string, unknown>,
  hooks?: Parameters<typeof ops.createArtifact<RowOf<K>>>[4],
) {
  return ops.createArtifact<RowOf<K>>(rt, kind, serviceId, values, hooks);
}

/** ops.updateArtifact, handing `change` and returning the row type of the kind's table. */
export function updateArtifact<K extends ops.Kind>(
  rt: Runtime,
  kind: K,
  id: string,
  change: Parameters<typeof ops.updateArtifact<RowOf<K>>>[3],
) {
  return ops.updateArtifact<RowOf<K>>(rt, kind, id, change);
}

export function defineDelete<Row extends object>(
  kind: ops.Kind,
  field: string,
  type: ObjectRef<Types, Row>,
  guard?: Parameters<typeof ops.deleteArtifact>[3],
) {
  const idField = `${field}Id`;
  defineMutation(`delete${kind.typename}`, {
    description: `Deletes a ${kind.label}.`,
    scope: 'operator',
    errors,
    input: (t) => ({ [idField]: t.globalID({ for: type, required: true, description: `The ${kind.label}.` }) }),
    resolve: async (input, ctx) => {
      const deleted = await ops.deleteArtifact(ctx.runtime, kind, idAt(input, idField), guard);
      const service = await ctx.db.query.services.findFirst({ where: { id: deleted.serviceId } });
      return { deletedId: encodeGlobalID(kind.typename, deleted.id), service: service! };
    },
    success: (t) => ({
      deletedId: t.id({ description: `Global id of the deleted ${kind.label}.`, resolve: (r) => r.deletedId }),
      service: t.field({ type: Service, description: 'The service it was deleted from.', resolve: (r) => r.service }),
    }),
  });
}

// An input with a computed key (the id or text field of a kind) is typed with an index signature
// over all its values; these read one value back by what it is.

/** The database id of the decoded global id under `key`. */
export function idAt(input: { [key: string]: unknown }, key: string): string {
  const value = input[key];
  if (typeof value === 'object' && value !== null && 'id' in value && typeof value.id === 'string') return value.id;
  throw new TypeError(`input.${key} is not a decoded global id`);
}

/** The string under `key`, or null / undefined as sent. */
export function textAt(input: { [key: string]: unknown }, key: string): string | null | undefined {
  const value = input[key];
  if (value === null || value === undefined || typeof value === 'string') return value;
  throw new TypeError(`input.${key} is not a string`);
}

/** Leaves out what the caller did not send (undefined); null stays (it clears). */
export function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
