import {
  GraphQLError,
  getOperationAST,
  getVariableValues,
  isObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  Kind,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../graphql/context.js';
import { tooComplex } from '../graphql/limits.js';
import type { Runtime } from '../runtime.js';

/** Operations made only of introspection fields may run without a token: the schema is public. */
function isIntrospectionOnly(document: DocumentNode): boolean {
  return document.definitions.every(
    (d) =>
      d.kind !== Kind.OPERATION_DEFINITION ||
      d.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith('__')),
  );
}

const unauthenticated = (tokenSent: boolean) =>
  new GraphQLError(
    tokenSent
      ? 'The token was not accepted: it is wrong, or it was revoked. Ask an ADMIN for a valid one (createApiToken)'
      : 'Authentication required: send "Authorization: Bearer <token>" (or connection_init { authorization } on WebSocket)',
    {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    },
  );

/** Whether the request carried a token at all (a WebSocket without a valid one never gets this far). */
const tokenSent = (ctx: Context): boolean =>
  !!(ctx as Context & { request?: Request }).request?.headers.get('authorization');

/** Every operation but introspection needs a token: without one it stops with UNAUTHENTICATED (401). */
export function requireViewer(): Plugin<Context> {
  const guard = ({
    args,
    setResultAndStopExecution,
  }: {
    args: ExecutionArgs;
    setResultAndStopExecution: (result: ExecutionResult) => void;
  }) => {
    const ctx = args.contextValue as Context;
    if (!ctx.viewer && !isIntrospectionOnly(args.document)) {
      setResultAndStopExecution({ errors: [unauthenticated(tokenSent(ctx))] });
    }
  };
  return { onExecute: guard, onSubscribe: guard };
}

/**
 * One log line per request: what ran (the operation's name, or its root fields when it has none),
 * who, how long; never its variables (they may hold secrets).
 */
export function operationLog(rt: Runtime): Plugin<Context> {
  return {
    onExecute: ({ args }) => {
      const started = performance.now();
      const ctx = args.contextValue as Context;
      const operation = getOperationAST(args.document, args.operationName);
      const name =
        operation?.name?.value ??
        operation?.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : '…')).join(',');
      return {
        onExecuteDone: ({ result }) => {
          const errors = 'errors' in result ? (result.errors?.length ?? 0) : 0;
          rt.log.info(
            {
              requestId: ctx.requestId,
              type: operation?.operation ?? null,
              operation: name ?? null,
              token: ctx.viewer?.tokenName ?? null,
              ms: Math.round(performance.now() - started),
              errors,
            },
            'request',
          );
        },
      };
    },
  };
}

/** Audit records of refused mutations are written before the response leaves. */
export function awaitRefusalAudits(): Plugin<Context> {
  return {
    onExecute: ({ executeFn, setExecuteFn }) => {
      setExecuteFn(async (args) => {
        const result = await executeFn(args);
        await Promise.all((args.contextValue as Context).pendingAudit);
        return result;
      });
    },
  };
}

/** An operation's text over MAX_QUERY_BYTES is refused before it is parsed (or cached): documents are small, data goes in variables. */
export function queryTextTooLong(query: unknown, max: number) {
  if (typeof query !== 'string' || query.length <= max) return null;
  return tooComplex(
    `The operation text of ${query.length} characters is longer than the limit of ${max} (MAX_QUERY_BYTES); pass data in variables`,
    413,
  );
}

export function limitQueryText(max: number): Plugin {
  return {
    onParams: ({ params }) => {
      const error = queryTextTooLong(params.query, max);
      if (error) throw error;
    },
  };
}

/**
 * Queries and mutations run as code compiled once per document (graphql-jit) instead of graphql-js
 * walking the operation on every request. The compiled form is kept with the parsed document (a
 * WeakMap on it), so it lives as long as the endpoint's document cache keeps that document.
 * Subscriptions keep graphql-js (shareEventResults executes each event itself). Variables that do not
 * fit their types answer 400 with no data, as graphql-js's executor does.
 */
/** A response path as graphql-js builds it: one link per position, shared by everything beneath it. */
interface PathLink {
  prev: PathLink | undefined;
  key: string | number;
  typename: string | undefined;
}

/**
 * graphql-jit hands every resolver a new path object, while Pothos' drizzle plugin finds the rows a
 * parent's query already loaded by the identity of path links (a WeakMap keyed by them), as graphql-js
 * shares them: without the same links every nested relation falls back to a query of its own. So,
 * during a compiled execution, each resolver gets the one link for its position, built once per
 * execution (keyed by a holder made for that execution and its context).
 */
function sharedPaths(schema: GraphQLSchema) {
  const executions = new WeakMap<object, object>();
  const children = new WeakMap<object, Map<string | number, PathLink>>();
  const link = (root: object, path: { prev?: unknown; key: string | number } | undefined): PathLink | undefined => {
    if (!path) return undefined;
    const prev = link(root, path.prev as typeof path);
    const parent = prev ?? root;
    let byKey = children.get(parent);
    if (!byKey) {
      byKey = new Map();
      children.set(parent, byKey);
    }
    let shared = byKey.get(path.key);
    if (!shared) {
      shared = { prev, key: path.key, typename: undefined };
      byKey.set(path.key, shared);
    }
    return shared;
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve;
      if (!resolve) continue;
      field.resolve = (parent, args, ctx, info) => {
        const root = executions.get(ctx as object);
        return resolve(
          parent,
          args,
          ctx,
          root ? { ...info, path: link(root, info.path) as GraphQLResolveInfo['path'] } : info,
        );
      };
    }
  }
  /** Marks `ctx` as in a compiled execution of its own, until the next one. */
  return (ctx: object) => executions.set(ctx, {});
}

const badRequest = (error: GraphQLError) =>
  new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, http: { status: 400 } } });

export function compiledExecution(): Plugin {
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | ExecutionResult>>();
  const schemas = new WeakMap<GraphQLSchema, (ctx: object) => void>();
  const compile = (args: ExecutionArgs) => {
    if (!schemas.has(args.schema)) schemas.set(args.schema, sharedPaths(args.schema));
    const byOperation = compiled.get(args.document) ?? new Map<string, CompiledQuery | ExecutionResult>();
    compiled.set(args.document, byOperation);
    const name = args.operationName ?? '';
    let entry = byOperation.get(name);
    if (!entry) {
      entry = compileQuery(args.schema, args.document, args.operationName ?? undefined);
      byOperation.set(name, entry);
    }
    return entry;
  };
  const execute = async (args: ExecutionArgs): Promise<ExecutionResult> => {
    const entry = compile(args);
    if (!isCompiledQuery(entry)) return entry;
    // Variables checked by graphql-js first: its messages name the path of a wrong value.
    const operation = getOperationAST(args.document, args.operationName);
    const variables = getVariableValues(args.schema, operation?.variableDefinitions ?? [], args.variableValues ?? {});
    if (variables.errors) return { errors: variables.errors.map(badRequest) };
    schemas.get(args.schema)!(args.contextValue as object);
    return entry.query(args.rootValue, args.contextValue, args.variableValues);
  };
  return { onExecute: ({ setExecuteFn }) => setExecuteFn(execute as never) };
}
