import { GraphQLError, Kind, createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../graphql/context.js';
import type { Runtime } from '../runtime.js';

/** Operations made only of introspection fields may run without a token: the schema is public. */
function isIntrospectionOnly(document: DocumentNode): boolean {
  return document.definitions.every(
    (d) =>
      d.kind !== Kind.OPERATION_DEFINITION ||
      d.selectionSet.selections.every((s) => s.kind === Kind.FIELD && s.name.value.startsWith('__')),
  );
}

const unauthenticated = () =>
  new GraphQLError('Authentication required: send "Authorization: Bearer <token>" (or connection_init { authorization } on WebSocket)', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  });

/** Every operation but introspection needs a token: without one it stops with UNAUTHENTICATED (401). */
export function requireViewer(): Plugin<Context> {
  const guard = ({ args, setResultAndStopExecution }: { args: ExecutionArgs; setResultAndStopExecution: (result: ExecutionResult) => void }) => {
    const ctx = args.contextValue as Context;
    if (!ctx.viewer && !isIntrospectionOnly(args.document)) setResultAndStopExecution({ errors: [unauthenticated()] });
  };
  return { onExecute: guard, onSubscribe: guard };
}

/** One log line per operation: who, what, how long; never its variables (they may hold secrets). */
export function operationLog(rt: Runtime): Plugin<Context> {
  return {
    onExecute: ({ args }) => {
      const started = performance.now();
      const ctx = args.contextValue as Context;
      return {
        onExecuteDone: ({ result }) => {
          const errors = 'errors' in result ? (result.errors?.length ?? 0) : 0;
          rt.log.info(
            { requestId: ctx.requestId, operation: args.operationName ?? null, token: ctx.viewer?.tokenName ?? null, ms: Math.round(performance.now() - started), errors },
            'operation',
          );
        },
      };
    },
  };
}

/**
 * Each subscription event is executed once per distinct operation (document, variables, role) and
 * the result shared by every subscriber of that operation: the event object is the same for all
 * of them (one bus message, one database read), so 1,000 subscribers of a plan cost one execution
 * per event, not 1,000. Results depend on nothing else of the context: scopes come from the role.
 */
export function shareEventResults(): Plugin<Context> {
  const documents = new WeakMap<DocumentNode, number>();
  let count = 0;
  const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
  const subscribe = async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return source;
    if (!documents.has(args.document)) documents.set(args.document, ++count);
    const key = [documents.get(args.document), args.operationName, (args.contextValue as Context).viewer?.role, JSON.stringify(args.variableValues ?? {})].join('\n');
    const resultOf = (event: unknown) => {
      if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
      const byOperation = results.get(event) ?? new Map();
      results.set(event, byOperation);
      if (!byOperation.has(key)) byOperation.set(key, execute({ ...args, rootValue: event }));
      return byOperation.get(key)!;
    };
    const events = source[Symbol.asyncIterator]();
    // An iterator, not a generator: `return` must reach the source at once, not after its next event.
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]: () => mapped,
      next: async () => {
        const next = await events.next();
        return next.done ? next : { done: false, value: await resultOf(next.value) };
      },
      return: async () => (await events.return?.(), { done: true, value: undefined }),
      throw: async (error) => (await events.return?.(), Promise.reject(error)),
    };
    return mapped;
  };
  return { onSubscribe: ({ setSubscribeFn }) => setSubscribeFn(subscribe as never) };
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
