/**
 * What can be logged of an unexpected error: never a query's parameters, which may hold secrets
 * (drizzle's DrizzleQueryError quotes them in its message).
 */
export function describeError(error: unknown) {
  const e = error as Error & { query?: string; cause?: Error & { code?: string; constraint_name?: string } };
  const fromDatabase = e?.query !== undefined;
  return {
    errorName: e?.name,
    message: fromDatabase ? e.cause?.message : e?.message,
    pgCode: e?.cause?.code,
    constraint: e?.cause?.constraint_name,
    stack: e?.stack?.split('\n').slice(1, 6).join('\n'),
  };
}
