import { decodeGlobalID } from '@pothos/plugin-relay';
import { DomainError, NotFoundError, ValidationError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A global id decoded, if it can name an object of one of `typenames` (of any type when null), or
 * why not: a malformed id is a validation error on `path`; an id of another type, or whose database
 * id is not a UUID (every table's key), is simply not found.
 */
export function decodeId(
  globalId: string,
  typenames: readonly string[] | null,
  path: string[],
): { typename: string; id: string } | DomainError {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    return ValidationError.field(path, 'is not a valid id');
  }
  const expected = typenames ?? [decoded.typename];
  if (!expected.includes(decoded.typename) || !UUID.test(decoded.id)) return new NotFoundError(expected[0]!, globalId);
  return decoded;
}

/** The database id behind a global id of the given type; throws what decodeId finds wrong with it. */
export function localId(globalId: string, typename: string, path: string[]): string {
  const decoded = decodeId(globalId, [typename], path);
  if (decoded instanceof DomainError) throw decoded;
  return decoded.id;
}
