import {
  type DocumentNode,
  type ExecutionArgs,
  type FieldNode,
  getArgumentValues,
  getOperationAST,
  Kind,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../graphql/context.js';
import { recordRefusal } from './service.js';

/** The mutation fields an operation selects at its top, through fragments too (aliases are capped). */
function topLevelFields(selectionSet: SelectionSetNode, document: DocumentNode, seen = new Set<string>()): FieldNode[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return selection.name.value.startsWith('__') ? [] : [selection];
    if (selection.kind === Kind.INLINE_FRAGMENT) return topLevelFields(selection.selectionSet, document, seen);
    const name = selection.name.value;
    if (seen.has(name)) return [];
    seen.add(name);
    const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === name);
    return fragment?.kind === Kind.FRAGMENT_DEFINITION ? topLevelFields(fragment.selectionSet, document, seen) : [];
  });
}

/** The `input` argument of a mutation field as it was sent, or null when it does not coerce. */
function inputOf(args: ExecutionArgs, field: FieldNode): Record<string, unknown> | null {
  const definition = args.schema.getMutationType()?.getFields()[field.name.value];
  if (!definition) return null;
  try {
    const input = getArgumentValues(definition, field, args.variableValues ?? {}).input;
    return typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Mutations attempted without a (valid) token are refused with 401 before they execute; each is
 * still written to the audit log (token "anonymous", outcome UNAUTHENTICATED), as every mutation is.
 * Must come before the plugin that refuses them.
 */
export function auditUnauthenticatedMutations(): Plugin<Context> {
  return {
    onExecute: async ({ args }) => {
      const ctx = args.contextValue as Context;
      if (ctx.viewer) return;
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'mutation') return;
      const fields = topLevelFields(operation.selectionSet, args.document);
      await Promise.all(
        fields.map((field) => recordRefusal(ctx.db, null, field.name.value, inputOf(args, field), 'UNAUTHENTICATED')),
      );
    },
  };
}
