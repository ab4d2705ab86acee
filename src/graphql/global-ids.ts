import SchemaBuilder, {
  BasePlugin,
  type PothosInputFieldConfig,
  type PothosOutputFieldConfig,
  type SchemaTypes,
} from '@pothos/core';
import { getNamedType, isInputObjectType, type GraphQLFieldResolver, type GraphQLResolveInfo } from 'graphql';
import { DomainError } from '../errors.js';
import { decodeId } from './ids.js';

// Arguments declared with t.globalID({ for }) / t.arg.globalID({ for }) are decoded by the relay
// plugin into { typename, id } before the field runs: before scope-auth, before the mutation's audit
// and before its input rules. Its errors for a malformed id or an id of another type would preempt
// all three, and say neither what the API promises (VALIDATION_FAILED on the field's path, NOT_FOUND)
// nor to whom. So this plugin looks at those arguments first: an id the relay plugin would refuse, or
// whose local part is not a database id (a UUID), is kept from it and handed to the resolver, after
// auth, as an unusable id whose `.id` throws that problem. The resolver meets the problem where it
// uses the id (a mutation returns it as its typed error, audited); a lookup can ask `idProblem` first.

interface Unusable {
  /** The argument, then the input field when the id is a field of an input-object argument. */
  path: [string] | [string, string];
  typename: string;
  problem: DomainError;
}

const unusable = new WeakMap<GraphQLResolveInfo, Unusable[]>();

/** The problem with this field call's first unusable global-id argument (malformed, or naming nothing of its type). */
export function idProblem(info: GraphQLResolveInfo): DomainError | undefined {
  return unusable.get(info)?.[0]?.problem;
}

/** Stands for an unusable id: reading its database id throws why it is unusable. */
function unusableId({ typename, problem }: Unusable): { typename: string; id: string } {
  return {
    typename,
    get id(): string {
      throw problem;
    },
  };
}

interface GlobalIdExtensions {
  isRelayGlobalID?: boolean;
  relayGlobalIDFor?: { typename: string }[] | null;
}

/** Why `value` cannot be an id of one of `types` (any type when null), as the error to answer with. */
function problemWith(value: unknown, types: { typename: string }[] | null, path: string[]): DomainError | undefined {
  if (typeof value !== 'string') return undefined;
  const decoded = decodeId(value, types?.map((t) => t.typename) ?? null, path);
  return decoded instanceof DomainError ? decoded : undefined;
}

/**
 * Every unusable global id among the arguments (and the fields of input-object arguments), and the
 * arguments with those ids taken out (null), so that the relay plugin refuses none.
 */
function findUnusable(
  args: Record<string, unknown>,
  info: GraphQLResolveInfo,
): { found: Unusable[]; args: Record<string, unknown> } {
  const field = info.parentType.getFields()[info.fieldName];
  const found: Unusable[] = [];
  const usable: Record<string, unknown> = { ...args };
  const check = (value: unknown, ext: GlobalIdExtensions, path: Unusable['path']): boolean => {
    if (!ext.isRelayGlobalID) return false;
    const types = ext.relayGlobalIDFor ?? null;
    const problem = problemWith(value, types, path);
    if (problem) found.push({ path, typename: types?.[0]?.typename ?? 'Node', problem });
    return problem !== undefined;
  };
  for (const arg of field?.args ?? []) {
    const value = args[arg.name];
    if (check(value, arg.extensions as GlobalIdExtensions, [arg.name])) usable[arg.name] = null;
    const type = getNamedType(arg.type);
    if (!isInputObjectType(type) || typeof value !== 'object' || value === null) continue;
    const input: Record<string, unknown> = { ...value };
    for (const inputField of Object.values(type.getFields())) {
      if (check(input[inputField.name], inputField.extensions as GlobalIdExtensions, [arg.name, inputField.name]))
        input[inputField.name] = null;
    }
    usable[arg.name] = input;
  }
  return { found, args: usable };
}

/** The decoded arguments with each unusable id put back, as an unusable id. */
function withUnusable(args: object, found: Unusable[]): Record<string, unknown> {
  const result: Record<string, unknown> = { ...args };
  for (const entry of found) {
    const [argName, fieldName] = entry.path;
    const arg = result[argName];
    result[argName] =
      fieldName === undefined
        ? unusableId(entry)
        : { ...(typeof arg === 'object' ? arg : {}), [fieldName]: unusableId(entry) };
  }
  return result;
}

export class GlobalIdProblemsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  /** Whether the field takes a global id, as an argument or a field of an input-object argument (subscriptions aside). */
  private takesGlobalIds(fieldConfig: PothosOutputFieldConfig<Types>): boolean {
    if (fieldConfig.kind === 'Subscription') return false;
    const isGlobalId = (config: PothosInputFieldConfig<Types>) =>
      (config.extensions as GlobalIdExtensions | null | undefined)?.isRelayGlobalID === true;
    return Object.values(fieldConfig.args).some(
      (arg) =>
        isGlobalId(arg) ||
        (arg.type.kind === 'InputObject' &&
          Object.values(this.buildCache.getInputTypeFieldConfigs(arg.type.ref)).some(isGlobalId)),
    );
  }

  /** Before the relay plugin decodes: keep unusable ids from it. */
  override wrapArgMappers(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> | undefined {
    if (!resolver || !this.takesGlobalIds(fieldConfig)) return resolver;
    return (parent, args, ctx, info) => {
      const { found, args: usable } = findUnusable(args as Record<string, unknown>, info);
      if (!found.length) return resolver(parent, args, ctx, info);
      unusable.set(info, found);
      return resolver(parent, usable, ctx, info);
    };
  }

  /** After auth (this plugin is the last, so its wrapper is innermost): hand the resolver the unusable ids. */
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    if (!this.takesGlobalIds(fieldConfig)) return resolver;
    return (parent, args, ctx, info) => {
      const found = unusable.get(info);
      return resolver(parent, found ? withUnusable(args, found) : args, ctx, info);
    };
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      globalIdProblems: GlobalIdProblemsPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('globalIdProblems', GlobalIdProblemsPlugin);
export default 'globalIdProblems' as const;
