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

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has: they say nothing to someone reading a terminal. */
const QUIET = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'service', 'stack']);

/**
 * A JSON log line as a person reads it in a terminal:
 * `12:00:01.042 INFO  mutation CreateBackup token=ops ms=12 errors=0 requestId=…`.
 */
export function readableLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json);
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  // A request reads as what ran (`mutation CreateBackup`); its id, for finding it again, goes last.
  const request = entry.msg === 'request';
  const { requestId, ...rest } = entry;
  const message = request ? `${entry.type ?? 'operation'} ${entry.operation ?? ''}` : (entry.msg ?? '');
  const fields = Object.entries({ ...rest, requestId })
    .filter(([key]) => !QUIET.has(key) && !(request && (key === 'type' || key === 'operation')))
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      return `${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
    });
  const stack = typeof entry.stack === 'string' ? `\n${entry.stack}` : '';
  return `${[time, LEVELS[entry.level as number] ?? String(entry.level), message, ...fields].join(' ')}${stack}\n`;
}

/** Where the log goes: readable lines on a terminal, JSON lines (one per event) for anything else. */
export function logDestination(out: NodeJS.WriteStream = process.stdout) {
  return out.isTTY ? { write: (line: string) => void out.write(readableLine(line)) } : out;
}
