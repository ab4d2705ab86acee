import {
  type DomainError,
  ForbiddenError,
  InvalidStateError,
  LimitExceededError,
  NameUnavailableError,
  NotFoundError,
  ValidationError,
} from '../errors.js';
import { builder } from './builder.js';

/** Every typed error implements this interface, so clients can always ask for `code` and `message`. */
export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  description: 'A problem the caller can act on. `code` is stable (clients switch on it); `message` says what to do.',
  fields: (t) => ({
    code: t.exposeString('code', {
      description: 'Stable machine-readable code, e.g. VALIDATION_FAILED or INVALID_STATE.',
    }),
    message: t.exposeString('message', { description: 'What went wrong and how to fix it, for a person.' }),
  }),
});

const FieldProblem = builder.objectRef<{ path: string[]; message: string }>('FieldProblem').implement({
  description: 'One invalid input field.',
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Path of the field in the input, e.g. ["input", "name"].' }),
    message: t.exposeString('message', { description: 'What is wrong with the value.' }),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input broke a rule (code VALIDATION_FAILED); `fields` lists every offending field.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    fields: t.field({ type: [FieldProblem], description: 'The offending fields.', resolve: (e) => e.fields }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'Nothing of that kind has that id (code NOT_FOUND).',
  interfaces: [ErrorInterface],
  fields: (t) => ({ id: t.exposeString('id', { description: 'The id that was not found.' }) }),
});

builder.objectType(InvalidStateError, {
  name: 'InvalidStateError',
  description: 'The operation is not allowed in the current state (code INVALID_STATE); nothing was changed.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ state: t.exposeString('state', { description: 'The state that forbids the operation.' }) }),
});

builder.objectType(NameUnavailableError, {
  name: 'NameUnavailableError',
  description: 'The service name is taken or on hold after a deletion (code NAME_UNAVAILABLE).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    name: t.exposeString('serviceName', { description: 'The name asked for.' }),
    availableAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When a name on hold becomes free; null while a live service uses it.',
      resolve: (e) => e.availableAt,
    }),
  }),
});

builder.objectType(LimitExceededError, {
  name: 'LimitExceededError',
  description: "The change would go past a limit of the service's edition (code LIMIT_EXCEEDED).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    limit: t.exposeString('limit', { description: 'Which limit, e.g. scaleUnits, bridges, agreements.' }),
    maximum: t.exposeInt('maximum', { description: 'The largest value allowed for this service.' }),
  }),
});

builder.objectType(ForbiddenError, {
  name: 'ForbiddenError',
  description: "The caller's role may not perform this operation (code FORBIDDEN).",
  interfaces: [ErrorInterface],
});
