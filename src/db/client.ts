import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
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
    const db = drizzlePostgres({ client, relations, logger });
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
  const client = await PGlite.create(dir);
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
