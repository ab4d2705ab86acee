import { decodeGlobalID } from '@pothos/plugin-relay';
import { NotFoundError, ValidationError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The database id behind a global id of the given type. A malformed id is a validation error on
 * `path`; an id of another type is simply not found.
 */
export function localId(globalId: string, typename: string, path: string[]): string {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    throw ValidationError.field(path, 'is not a valid id');
  }
  if (decoded.typename !== typename || !UUID.test(decoded.id)) throw new NotFoundError(typename, globalId);
  return decoded.id;
}
