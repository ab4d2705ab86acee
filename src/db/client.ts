import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import type { PgAsyncDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { copyOutBytea } from './copy.js';
import { relations } from './schema.js';

/** One database type for both drivers. */
export type Database = PgAsyncDatabase<PgQueryResultHKT, typeof relations>;

export interface DatabaseHandle {
  db: Database;
  kind: 'postgres' | 'pglite';
  migrate(): Promise<void>;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  /** LISTEN on a channel; returns a function that stops listening. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** The values of a one-column `bytea` query without the hex text a SELECT sends them as (PostgreSQL; null on PGlite). See copy.ts. */
  copyOutBytea: ((query: string) => AsyncIterable<Buffer>) | null;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** Receives every SQL statement (tests count them); parameters are never passed on. */
  onQuery?: (sql: string) => void;
}

/** The project's drizzle/ folder, seen from src/db/ (TypeScript run directly) or from the dist/ bundle. */
const migrationsFolder = (() => {
  const found = ['../drizzle', '../../drizzle']
    .map((path) => fileURLToPath(new URL(path, import.meta.url)))
    .find(existsSync);
  if (!found)
    throw new Error(
      `The drizzle/ migrations folder was not found next to ${fileURLToPath(import.meta.url)}: start the server from the project's dist/ or src/`,
    );
  return found;
})();

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const logger: DrizzleLogger | undefined = options.onQuery ? { logQuery: (sql) => options.onQuery!(sql) } : undefined;
  if (options.databaseUrl) {
    // onnotice: PostgreSQL notices (e.g. "relation already exists") are not worth a log line each.
    const client = postgres(options.databaseUrl, { max: 10, onnotice: () => {} });
    const db = drizzlePostgres({ client: preparing(client), relations, logger });
    return {
      db,
      kind: 'postgres',
      migrate: async () => {
        await migratePostgres(db, { migrationsFolder });
      },
      ping: async () =>
        client`select 1`.then(
          () => true,
          () => false,
        ),
      listen: async (channel, onPayload) => {
        // postgres.js keeps one connection for LISTEN and re-listens after reconnecting.
        const { unlisten } = await client.listen(channel, onPayload);
        return unlisten;
      },
      copyOutBytea: (query) => copyOutBytea(options.databaseUrl!, query),
      close: () => client.end({ timeout: 5 }),
    };
  }
  // Loaded only for the embedded database: the PGlite module alone costs some 40 MB of memory.
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
    import('drizzle-orm/pglite/migrator'),
  ]);
  const dir = join(options.dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'PG_VERSION'))) await initEmbeddedDataDir(dir);
  const client = await PGlite.create(dir, {
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`],
  });
  const db = drizzlePglite({ client, relations, logger });
  return {
    db: db as unknown as Database,
    kind: 'pglite',
    migrate: async () => {
      await migratePglite(db, { migrationsFolder });
    },
    ping: async () =>
      client.query('select 1').then(
        () => true,
        () => false,
      ),
    listen: (channel, onPayload) => client.listen(channel, onPayload).then((unlisten) => () => unlisten()),
    copyOutBytea: null,
    close: () => client.close(),
  };
}

/**
 * PostgreSQL's default of 128 MB of shared buffers is memory the embedded database touches at start;
 * 32 MB keeps the server's idle RSS near 250 MB (the operating system's page cache still holds the files).
 */
const EMBEDDED_SHARED_BUFFERS = '32MB';

/**
 * Creates the embedded database's files, migrated, in a short-lived process of its own. PGlite's initdb
 * runs a second PostgreSQL and copies its 128 MB heap to reset it between steps: some 770 MB at its
 * peak, of which V8 gave back only part (the server stayed near 440 MB RSS afterwards); creating every
 * table grows the WASM heap by some more. The server then opens a migrated database (its own migrate()
 * finds nothing to do).
 */
async function initEmbeddedDataDir(dir: string): Promise<void> {
  const resolve = createRequire(import.meta.url).resolve;
  const modules = ['@electric-sql/pglite', 'drizzle-orm/pglite', 'drizzle-orm/pglite/migrator'].map((m) => resolve(m));
  const script = `const [pglite, driver, migrator, dir, migrationsFolder] = process.argv.slice(1);
    require(pglite).PGlite.create(dir)
      .then(async (pg) => {
        await require(migrator).migrate(require(driver).drizzle({ client: pg }), { migrationsFolder });
        await pg.close();
      })
      .then(() => process.exit(0), (error) => { process.stderr.write(String(error?.message ?? error)); process.exit(1); })`;
  try {
    await promisify(execFile)(process.execPath, ['-e', script, ...modules, dir, migrationsFolder], {
      env: { PATH: process.env.PATH },
    });
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new Error(`The embedded database could not be created in ${dir}: ${detail}`);
  }
}

/** How many distinct statement texts are prepared: enough for every query the API's documents build. */
const PREPARED_TEXTS = 512;

/**
 * The client drizzle sends its statements through, preparing them: drizzle asks postgres.js for
 * unnamed statements, which PostgreSQL parses and plans on every request; prepared, a repeated query
 * (the same text, other values) is parsed once per connection and planned from a cached plan (server CPU
 * per `service(name:)` request -20 %, see bench/RESULTS.md). Only statements with parameters (not
 * migrations, which may hold several commands) and only the first PREPARED_TEXTS distinct texts: a
 * text that varies with its values (bulk inserts, IN lists) must not fill the connections' caches.
 */
function preparing(sql: postgres.Sql, texts = new Set<string>()): postgres.Sql {
  const prepare = (query: string, params: unknown[] | undefined) => {
    if (!params?.length) return false;
    if (texts.has(query)) return true;
    if (texts.size >= PREPARED_TEXTS) return false;
    texts.add(query);
    return true;
  };
  return new Proxy(sql, {
    get(target, key, receiver) {
      if (key === 'unsafe')
        return (query: string, params?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) =>
          target.unsafe(query, params, { ...options, prepare: options?.prepare !== false || prepare(query, params) });
      if (key === 'begin' || key === 'savepoint')
        return (...args: unknown[]) => {
          const transaction = args.pop() as (tx: postgres.Sql) => unknown;
          const begin = Reflect.get(target, key, receiver) as (...a: unknown[]) => unknown;
          return begin(...args, (tx: postgres.Sql) => transaction(preparing(tx, texts)));
        };
      return Reflect.get(target, key, receiver);
    },
  });
}
