import type { InputFieldMap, InputShapeFromFields, SchemaTypes } from '@pothos/core';
import { ForbiddenError, ValidationError, type DomainError } from '../errors.js';
import { auditEntry, audited } from '../audit/service.js';
import { builder } from './builder.js';
import type { Context } from './context.js';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : SchemaTypes;
type ErrorClass = new (...args: any[]) => DomainError;

export interface MutationOptions<Fields extends InputFieldMap, Shape extends object> {
  description: string;
  /** The least role allowed to call it. */
  scope: 'operator' | 'admin';
  input: (t: PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>) => Fields;
  /** Fields of `<Name>Success`, read from what `resolve` returns. */
  success: (t: PothosSchemaTypes.ObjectFieldBuilder<Types, Shape>) => Record<string, any>;
  /** Typed errors besides ValidationError and ForbiddenError, which every mutation can return. */
  errors: ErrorClass[];
  resolve: (input: InputShapeFromFields<Fields>, ctx: Context) => Promise<Shape>;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * One mutation in the SPEC §3 convention: `name(input: <Name>Input!): <Name>Result`, where the
 * result is `<Name>Success | <typed errors>`.
 */
export function defineMutation<Fields extends InputFieldMap, Shape extends object>(
  name: string,
  options: MutationOptions<Fields, Shape>,
): void {
  const typeName = capitalize(name);
  const Input = builder.inputType(`${typeName}Input`, {
    description: `Input of \`${name}\`.`,
    fields: options.input,
  });
  const Success = builder.objectRef<Shape>(`${typeName}Success`).implement({
    description: `What \`${name}\` changed.`,
    fields: options.success,
  });
  builder.mutationField(name, (t) =>
    t.field({
      type: Success,
      description: options.description,
      args: { input: t.arg({ type: Input, required: true, description: `See ${typeName}Input.` }) },
      authScopes: { [options.scope]: true },
      errors: {
        types: [ValidationError, ForbiddenError, ...options.errors],
        union: { description: `${typeName}Success, or one of the errors \`${name}\` can meet.` },
      },
      resolve: (_root: unknown, args: { input: InputShapeFromFields<Fields> }, ctx: Context) =>
        audited(ctx, auditEntry(ctx.viewer, name, args.input as Record<string, unknown>), (audit) => options.resolve(args.input, audit)),
    } as any),
  );
}
