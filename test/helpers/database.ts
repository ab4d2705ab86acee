import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { inject } from 'vitest';

export interface TestDatabase {
  /** Environment that points the server at this database. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** A clean, migrated-or-empty database for one test file: PGlite by default, PostgreSQL with TEST_DATABASE_URL. */
export async function freshDatabase(): Promise<TestDatabase> {
  const root = inject('testDataRoot');
  const id = randomBytes(6).toString('hex');
  const dataDir = join(root, `db-${id}`);
  mkdirSync(dataDir, { recursive: true });
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    cpSync(join(root, 'template', 'pgdata'), join(dataDir, 'pgdata'), { recursive: true });
    return { env: { DATA_DIR: dataDir }, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `bt_test_${id}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    drop: async () => {
      const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
