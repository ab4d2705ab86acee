import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
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

/** Azurite's well-known development account (public, documented by Microsoft). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Microsoft's Azure Storage emulator (blob service only, in memory) on a free port, once it answers. */
async function startAzurite(): Promise<{ process: ChildProcess; connectionString: string }> {
  const port = await freePort();
  const child = spawn(
    join(process.cwd(), 'node_modules', '.bin', 'azurite-blob'),
    [
      '--silent',
      '--inMemoryPersistence',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--skipApiVersionCheck',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`azurite-blob exited with ${child.exitCode}`);
    const answered = await fetch(`http://127.0.0.1:${port}/${DEV_ACCOUNT}?comp=list`).then(
      () => true,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) throw new Error('azurite-blob did not answer within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    process: child,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=http://127.0.0.1:${port}/${DEV_ACCOUNT};`,
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    testDataRoot: string;
    /** A connection string to the Azurite started for this run. */
    azuriteConnectionString: string;
  }
}
