import {
  GraphQLError,
  getOperationAST,
  Kind,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
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
