/** Characters of an error message that are logged: enough to tell what failed, not a whole value. */
const MAX_MESSAGE_CHARS = 200;

interface DriverError extends Error {
  code?: string;
  /** postgres.js */
  constraint_name?: string;
  /** PGlite */
  constraint?: string;
}

/**
 * What can be logged of an unexpected error: never a query's parameters, which may hold secrets or
 * megabytes of content. drizzle's DrizzleQueryError quotes the SQL and its `params:` in its message,
 * and so in the first lines of its stack; postgres.js and PGlite attach them as `parameters` /
 * `params`; PostgreSQL's own messages quote the value they could not take (`invalid input syntax for
 * type uuid: "…"`). So: the driver's message, its first line, cut, with every quoted part elided; its
 * code and constraint; and only the stack's frames (`at …` lines), never its message lines.
 */
export function describeError(error: unknown) {
  const e = error instanceof Error ? (error as Error & { query?: unknown; cause?: unknown }) : undefined;
  const wrapsDriverError = e?.name === 'DrizzleQueryError' && e.cause instanceof Error;
  const driver = (wrapsDriverError ? e.cause : e) as DriverError | undefined;
  return {
    errorName: e?.name ?? typeof error,
    message: driver?.message
      ?.split('\n', 1)[0]
      ?.replace(/"[^"]*("|$)/g, '"…"')
      .slice(0, MAX_MESSAGE_CHARS),
    pgCode: typeof driver?.code === 'string' ? driver.code : undefined,
    constraint: driver?.constraint_name ?? driver?.constraint,
    stack: e?.stack
      ?.split('\n')
      .filter((line) => /^\s+at /.test(line))
      .slice(0, 5)
      .join('\n'),
  };
}
