/**
 * Typed errors a user can meet. Each has a stable `code` (SPEC §3); the GraphQL layer exposes every
 * class as an object type implementing the `Error` interface. Never throw a plain Error for a
 * user's mistake: it would be masked as an internal error.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
}

export interface FieldProblem {
  /** Path of the offending input field, e.g. ['input', 'name']. */
  path: string[];
  message: string;
}

export class ValidationError extends DomainError {
  readonly code = 'VALIDATION_FAILED';
  constructor(readonly fields: FieldProblem[]) {
    super(fields.map((f) => `${f.path.join('.')}: ${f.message}`).join('; '));
  }
  static field(path: string[], message: string): ValidationError {
    return new ValidationError([{ path, message }]);
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly typename: string,
    readonly id: string,
  ) {
    super(`No ${typename} has the id ${id}`);
  }
}

export class InvalidStateError extends DomainError {
  readonly code = 'INVALID_STATE';
  constructor(
    message: string,
    readonly state: string,
  ) {
    super(message);
  }
}

export class NameUnavailableError extends DomainError {
  readonly code = 'NAME_UNAVAILABLE';
  constructor(
    message: string,
    readonly serviceName: string,
    readonly availableAt: Date | null,
  ) {
    super(message);
  }
}

export class LimitExceededError extends DomainError {
  readonly code = 'LIMIT_EXCEEDED';
  constructor(
    message: string,
    readonly limit: string,
    readonly maximum: number,
  ) {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
  constructor(message = 'Your token does not have the role this operation needs') {
    super(message);
  }
}

/** PostgreSQL unique violation, through drizzle's wrapper or straight from the driver. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const cause = (error as { cause?: unknown })?.cause ?? error;
  const e = cause as { code?: string; constraint?: string; constraint_name?: string };
  return e?.code === '23505' && (constraint === undefined || (e.constraint ?? e.constraint_name) === constraint);
}
