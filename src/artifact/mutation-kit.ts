import { InvalidStateError, NameUnavailableError, NotFoundError } from '../errors.js';
import { localId } from '../graphql/ids.js';
import { defineMutation } from '../graphql/mutation.js';
import { Service } from '../service/graphql.js';
import * as ops from './service.js';

// What create/update/delete mutations of every artifact kind share.
export const errors = [NotFoundError, InvalidStateError, NameUnavailableError];
export const id = (value: string, typename: string, field: string) => localId(value, typename, ['input', field]);
export const serviceOf = (value: string) => id(value, 'Service', 'serviceId');

/** create<Kind>/update<Kind>/delete<Kind> results carry the artifact (or the deleted id) and its service. */
export function successFields(field: string, type: any) {
  return (t: any) => ({
    [field]: t.field({ type, description: `The ${field} as it is now.`, resolve: (r: any) => r.row }),
  });
}

export function defineDelete(kind: ops.Kind, field: string, guard?: Parameters<typeof ops.deleteArtifact>[3]) {
  defineMutation(`delete${kind.typename}`, {
    description: `Deletes a ${kind.label}.`,
    scope: 'operator',
    errors,
    input: (t) => ({ [`${field}Id`]: t.id({ required: true, description: `The ${kind.label}.` }) }),
    resolve: async (input: Record<string, string>, ctx) => {
      const deleted = await ops.deleteArtifact(ctx.runtime, kind, id(input[`${field}Id`]!, kind.typename, `${field}Id`), guard);
      const service = await ctx.db.query.services.findFirst({ where: { id: deleted.serviceId } });
      return { deletedId: input[`${field}Id`]!, service: service! };
    },
    success: (t) => ({
      deletedId: t.id({ description: `Global id of the deleted ${kind.label}.`, resolve: (r) => r.deletedId }),
      service: t.field({ type: Service, description: 'The service it was deleted from.', resolve: (r) => r.service }),
    }),
  });
}


/** Leaves out what the caller did not send (undefined); null stays (it clears). */
export function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
