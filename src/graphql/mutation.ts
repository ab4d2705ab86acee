import type { FieldMap, InputFieldMap, InputObjectRef, InputShapeFromFields, ObjectRef } from '@pothos/core';
import { ForbiddenError, ValidationError, type DomainError } from '../errors.js';
import { auditEntry, audited } from '../audit/service.js';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../idempotency/graphql.js';
import { IdempotencyKeyInUseError, IdempotencyKeyReusedError, idempotent } from '../idempotency/service.js';
import { builder, sentInput, type Types } from './builder.js';
import type { Context } from './context.js';

/** A typed error a mutation can return: any DomainError class, whatever its constructor takes. */
export type ErrorClass = new (...args: never[]) => DomainError;

export interface MutationOptions<Fields extends InputFieldMap, Shape extends object> {
  description: string;
  /** The least role allowed to call it. */
  scope: 'operator' | 'admin';
  input: (t: PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>) => Fields;
  /**
   * Fields of `<Name>Success`, read from what `resolve` returns (its type is checked against them).
   * Write `resolve` before `success`: TypeScript infers Shape from the first of them.
   */
  success: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, Shape>) => FieldMap;
  /** Typed errors besides ValidationError and ForbiddenError, which every mutation can return. */
  errors: ErrorClass[];
  /**
   * A mutation that creates or starts something: its input takes an optional `idempotencyKey`, and
   * a retry with the same key and input returns the first result without acting again.
   */
  idempotent?: boolean;
  resolve: (input: InputShapeFromFields<Fields>, ctx: Context) => Promise<Shape>;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * One mutation in the SPEC §3 convention: `name(input: <Name>Input!): <Name>Result`, where the
 * result is `<Name>Success | ValidationError | ForbiddenError | <typed errors>`. Only callers with
 * the scope's role get in (a refusal is audited by the builder's unauthorizedError); every call is
 * audited with its outcome.
 */
export function defineMutation<Fields extends InputFieldMap, Shape extends object>(
  name: string,
  options: MutationOptions<Fields, Shape>,
): void {
  const typeName = capitalize(name);
  const Input = builder.inputType(`${typeName}Input`, {
    description: `Input of \`${name}\`.`,
    fields: (t) => ({
      ...options.input(t),
      ...(options.idempotent ? { idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }) } : {}),
    }),
  });
  const Success = builder.objectRef<Shape>(`${typeName}Success`).implement({
    description: `What \`${name}\` changed.`,
    fields: options.success,
  });
  // Pothos' field types are conditional types it cannot work out for a generic Shape or input, so the
  // field itself sees the success type as an object and the input as an object: options.success and
  // options.resolve are checked against Shape above, and Input is built from options.input.
  const Result: ObjectRef<Types, object> = Success;
  const InputArg: InputObjectRef<Types, object> = Input;
  builder.mutationField(name, (t) =>
    t.field({
      type: Result,
      description: options.description,
      args: { input: t.arg({ type: InputArg, required: true, description: `See ${typeName}Input.` }) },
      authScopes: options.scope === 'admin' ? { admin: true } : { operator: true },
      errors: {
        types: [
          ValidationError,
          ForbiddenError,
          ...options.errors,
          ...(options.idempotent ? [IdempotencyKeyReusedError, IdempotencyKeyInUseError] : []),
        ],
        union: { description: `${typeName}Success, or one of the errors \`${name}\` can meet.` },
      },
      resolve: (_root, args, ctx, info) => {
        const { idempotencyKey: key, ...sent } = sentInput(info) ?? {};
        const { idempotencyKey: _key, ...input } = args.input as { idempotencyKey?: string | null };
        const entry = auditEntry(ctx.viewer, name, sent);
        const onReplay = () => {
          entry.outcome = 'REPLAYED';
        };
        return audited(ctx, entry, (audit) =>
          idempotent(audit, { operation: name, key: key as string | null | undefined, input: sent, onReplay }, (once) =>
            // The one assertion: GraphQL validated args.input against Input, whose shape this is. (An
            // unusable global id in it throws its problem where the resolver reads it: see global-ids.ts.)
            options.resolve(input as InputShapeFromFields<Fields>, once),
          ),
        );
      },
    }),
  );
}
