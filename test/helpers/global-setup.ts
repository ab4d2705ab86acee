import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startAzurite } from './azurite.js';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.js';

export const testDataRoot = join(process.cwd(), '.test-data', String(process.pid));

/**
 * PGlite pays 2.5–4 s for initdb: migrate one template database per run and give each test file
 * a copy of it. On PostgreSQL (TEST_DATABASE_URL) each file creates its own database instead.
 */
export default async function setup(project: TestProject) {
  // Server processes run the bundle `npm start` runs.
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  rmSync(testDataRoot, { recursive: true, force: true });
  const template = join(testDataRoot, 'template');
  mkdirSync(template, { recursive: true });
  if (!process.env.TEST_DATABASE_URL) {
    const database = await openDatabase({ databaseUrl: undefined, dataDir: template });
    await database.migrate();
    await database.close();
  }
  project.provide('testDataRoot', testDataRoot);
  const azurite = await startAzurite();
  project.provide('azuriteConnectionString', azurite.connectionString);
  return () => {
    azurite.process.kill();
    rmSync(testDataRoot, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    testDataRoot: string;
    /** A connection string to the Azurite started for this run. */
    azuriteConnectionString: string;
  }
}
