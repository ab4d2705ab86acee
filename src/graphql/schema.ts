// Importing a slice's GraphQL file registers its types on the builder.
import { isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import '../service/graphql.js';
import '../service/mutations.js';
import '../artifact/graphql.js';
import '../artifact/mutations.js';
import '../artifact/partner-mutations.js';
import '../edi/graphql.js';
import '../backup/graphql.js';
import '../backup/lock-graphql.js';
import '../backup/diff-graphql.js';
import '../backup/store-graphql.js';
import '../backup/transfer-graphql.js';
import '../restore/graphql.js';
import '../restore/target-diff.js';
import '../drill/graphql.js';
import '../auth/graphql.js';
import '../audit/graphql.js';

/** Descriptions of the Relay plumbing that the plugins generate without one. */
const relayDescriptions: Record<string, string> = {
  edges: 'The objects of this page, each with its cursor.',
  pageInfo: 'Where this page sits in the whole list.',
  totalCount: 'How many objects the whole list holds, across all pages.',
  cursor: 'Opaque position of this object; pass it as `after` or `before` to page from here.',
  node: 'The object.',
  id: 'Global id (opaque); `node(id:)` fetches the object again.',
  hasNextPage: 'Whether more objects follow this page.',
  hasPreviousPage: 'Whether objects come before this page.',
  startCursor: 'Cursor of the first object of this page.',
  endCursor: 'Cursor of the last object of this page.',
  first: 'Page forward: at most this many objects (default 20, at most 100).',
  after: 'Page forward: objects after this cursor.',
  last: 'Page backward: at most this many objects (default 20, at most 100).',
  before: 'Page backward: objects before this cursor.',
};

function describeRelayPlumbing(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(isObjectType(type) || isInterfaceType(type)) || type.name.startsWith('__')) continue;
    if (!type.description && type.name.endsWith('Connection'))
      type.description = `A page of ${type.name.slice(0, -10)} objects (Relay connection).`;
    if (!type.description && type.name.endsWith('Edge'))
      type.description = `One ${type.name.slice(0, -4)} in a page, with its cursor.`;
    for (const field of Object.values(type.getFields())) {
      field.description ??= relayDescriptions[field.name];
      for (const arg of field.args) arg.description ??= relayDescriptions[arg.name];
    }
  }
  return schema;
}

export const schema = describeRelayPlumbing(builder.toSchema());
