import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver, GraphQLResolveInfo } from 'graphql';
import { recordRefusal } from '../audit/service.js';
import { DomainError, type FieldProblem, ValidationError } from '../errors.js';
import type { Context } from './context.js';
import { decodeId } from './ids.js';

/** Entries a list argument (or a list inside a JSON value) may hold: no input of the API needs more. */
export const MAX_LIST_ITEMS = 1000;
/** How deeply objects and lists may nest in an argument (a bridge `config`, say). */
export const MAX_INPUT_DEPTH = 32;
/** Problems reported at most, so that a huge bad input makes a small answer. */
const MAX_PROBLEMS = 10;

/** NUL, which PostgreSQL cannot store in text, and UTF-16 surrogates that are not part of a pair. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this looks for
const UNSTORABLE = /[\u0000\p{Cs}]/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this looks for
const UNSTORABLE_ALL = /[\u0000\p{Cs}]/gu;

function stringProblem(value: string): string | null {
  const found = UNSTORABLE.exec(value)?.[0];
  if (found === undefined) return null;
  return found === '\u0000' ? 'contains a NUL character (\\u0000)' : 'contains an unpaired UTF-16 surrogate';
}

/**
 * What cannot be stored or processed in an argument's (coerced) value: NUL or lone surrogates in any
 * string or object key, lists longer than MAX_LIST_ITEMS, nesting deeper than MAX_INPUT_DEPTH.
 */
export function inputProblems(
  value: unknown,
  path: string[],
  problems: FieldProblem[] = [],
  depth = 0,
): FieldProblem[] {
  if (problems.length >= MAX_PROBLEMS) return problems;
  if (typeof value === 'string') {
    const problem = stringProblem(value);
    if (problem) problems.push({ path, message: problem });
    return problems;
  }
  if (typeof value !== 'object' || value === null || value instanceof Date) return problems;
  if (depth >= MAX_INPUT_DEPTH) {
    problems.push({ path, message: `nests deeper than ${MAX_INPUT_DEPTH} levels` });
    return problems;
  }
  if (Array.isArray(value)) {
    if (value.length > MAX_LIST_ITEMS) {
      problems.push({ path, message: `has ${value.length} entries; at most ${MAX_LIST_ITEMS} are allowed` });
      return problems;
    }
    for (const [index, item] of value.entries()) inputProblems(item, [...path, String(index)], problems, depth + 1);
    return problems;
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_LIST_ITEMS) {
    problems.push({ path, message: `has ${entries.length} keys; at most ${MAX_LIST_ITEMS} are allowed` });
    return problems;
  }
  for (const [key, item] of entries) {
    const keyProblem = stringProblem(key);
    // The key itself may be what cannot be stored: name it cleaned in the path.
    if (keyProblem)
      problems.push({ path: [...path, key.replace(UNSTORABLE_ALL, '\uFFFD')], message: `key ${keyProblem}` });
    else inputProblems(item, [...path, key], problems, depth + 1);
  }
  return problems;
}

function check(args: object, info: GraphQLResolveInfo, ctx: Context): void {
  const problems: FieldProblem[] = [];
  for (const [name, value] of Object.entries(args)) inputProblems(value, [name], problems);
  if (!problems.length) return;
  if (info.parentType.name === 'Mutation') {
    // Nothing runs, but the attempt is recorded like any other mutation (awaited before the response).
    const input =
      'input' in args && typeof args.input === 'object' ? (args.input as Record<string, unknown> | null) : null;
    ctx.pendingAudit.push(recordRefusal(ctx.db, ctx.viewer, info.fieldName, input, 'VALIDATION_FAILED'));
  }
  throw new ValidationError(problems);
}

type Resolver<Types extends SchemaTypes> = GraphQLFieldResolver<unknown, Types['Context'], object>;

/**
 * `node(id:)`: an id that does not decode is a VALIDATION_FAILED (as `localId` makes it for every
 * other id); one whose database id is not a UUID (every node table's key) names nothing: null,
 * rather than a query the database refuses.
 */
function nodeIdChecked<Types extends SchemaTypes>(resolver: Resolver<Types>): Resolver<Types> {
  return (parent, args, ctx, info) => {
    const id = 'id' in args ? args.id : undefined;
    if (typeof id === 'string') {
      const decoded = decodeId(id, null, ['id']);
      if (decoded instanceof ValidationError) throw decoded;
      if (decoded instanceof DomainError) return null;
    }
    return resolver(parent, args, ctx, info);
  };
}

function checked<Types extends SchemaTypes>(resolver: Resolver<Types>): Resolver<Types> {
  return (parent, args, ctx, info) => {
    check(args, info, ctx as Context);
    return resolver(parent, args, ctx, info);
  };
}

/** The arguments as sent, of a field whose arguments are mapped (a `globalID` decoded) before it resolves. */
const sent = new WeakMap<GraphQLResolveInfo, object>();

/**
 * Checks every field's arguments once: bad input is a VALIDATION_FAILED with the argument's path,
 * never a database error. After scope-auth (a refused caller learns nothing about its input) and
 * inside the errors plugin (a mutation answers its ValidationError result). For a field whose
 * arguments are mapped first (a `globalID` decoded), on the arguments as sent, kept when the mapping
 * starts; `node(id:)` is checked before its id is decoded.
 */
export class InputHygienePlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(resolver: Resolver<Types>, fieldConfig: PothosOutputFieldConfig<Types>): Resolver<Types> {
    if (Object.keys(fieldConfig.args).length === 0 || isNodeField(fieldConfig)) return resolver;
    if (fieldConfig.argMappers.length === 0) return checked(resolver);
    return (parent, args, ctx, info) => {
      check(sent.get(info) ?? args, info, ctx as Context);
      return resolver(parent, args, ctx, info);
    };
  }

  override wrapSubscribe(
    subscribe: Resolver<Types> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): Resolver<Types> | undefined {
    if (!subscribe || Object.keys(fieldConfig.args).length === 0 || fieldConfig.argMappers.length > 0) return subscribe;
    return checked(subscribe);
  }

  override wrapArgMappers(
    resolver: Resolver<Types> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): Resolver<Types> | undefined {
    if (!resolver || fieldConfig.argMappers.length === 0) return resolver;
    if (isNodeField(fieldConfig)) return checked(nodeIdChecked(resolver));
    return (parent, args, ctx, info) => {
      sent.set(info, args);
      return resolver(parent, args, ctx, info);
    };
  }
}

function isNodeField<Types extends SchemaTypes>(fieldConfig: PothosOutputFieldConfig<Types>): boolean {
  return fieldConfig.parentType === 'Query' && fieldConfig.name === 'node';
}

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      inputHygiene: InputHygienePlugin<Types>;
    }
  }
}

const pluginName = 'inputHygiene';
SchemaBuilder.registerPlugin(pluginName, InputHygienePlugin);
export default pluginName;
