import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pino, type DestinationStream, type Logger } from 'pino';
import { ensureAdminAccess } from './auth/service.js';
import { failInterruptedBackups } from './backup/service.js';
import type { Config } from './config.js';
import { createSecretBox } from './crypto.js';
import { openDatabase } from './db/client.js';
import { createEventBus } from './events/bus.js';
import { logDestination } from './log.js';
import { BackgroundWork } from './jobs/background.js';
import { startScheduler } from './jobs/scheduler.js';
import { handBackWork, takeOverRestores } from './restore/lifecycle.js';
import type { Runtime } from './runtime.js';
import { createStoreRegistry, ensureDefaultStore } from './backup/store-service.js';
import { createHttpServer } from './server.js';

export interface AppOptions {
  /** Where JSON log lines go (stdout by default: readable lines on a terminal); tests capture them. */
  logDestination?: DestinationStream;
  /** Receives every SQL statement; tests count them. */
  onQuery?: (sql: string) => void;
}

export interface App {
  url: string;
  port: number;
  runtime: Runtime;
  /** The admin token generated at first start, to be shown once; null when none was generated. */
  generatedAdminToken: string | null;
  stop(graceMs?: number): Promise<void>;
}

export function createLogger(config: Config, destination?: DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'biztalk-backup' },
      // Belt and braces: nothing should log these, and if something does they are blanked.
      redact: [
        'authorization',
        '*.authorization',
        'headers.authorization',
        'password',
        '*.password',
        'secret',
        '*.secret',
        'variables',
        '*.variables',
      ],
    },
    destination ?? logDestination(),
  );
}

/** config → database → migrations → server listening. The HTTP port opens first so /readyz can say "not yet". */
export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const started = Date.now();
  const log = createLogger(config, options.logDestination);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onQuery: options.onQuery,
  });
  const secrets = createSecretBox(config.encryptionKey);
  const runtime: Runtime = {
    config,
    database,
    secrets,
    backupStores: createStoreRegistry(secrets, config.dataDir),
    events: await createEventBus(database, log),
    log,
    background: new BackgroundWork(log),
    instanceId: randomUUID(),
  };
  const http = createHttpServer(runtime);
  try {
    await new Promise<void>((resolve, reject) => {
      http.server.once('error', reject);
      http.server.listen(config.port, '0.0.0.0', () => resolve());
    });
    await database.migrate();
    const generatedAdminToken = await ensureAdminAccess(runtime);
    await ensureDefaultStore(runtime);
    const interrupted = await failInterruptedBackups(runtime, database.kind === 'pglite');
    if (interrupted) log.warn({ count: interrupted }, 'backups interrupted by an earlier stop were marked FAILED');
    // On the embedded database this process is the only one: whatever was running was interrupted.
    await takeOverRestores(runtime, database.kind === 'pglite');
    const scheduler = startScheduler(runtime);
    http.setReady(true);
    const port = (http.server.address() as AddressInfo).port;
    log.info({ port, database: database.kind, ms: Date.now() - started }, 'ready');
    let stopping: Promise<void> | null = null;
    return {
      url: `http://127.0.0.1:${port}/graphql`,
      port,
      runtime,
      generatedAdminToken,
      stop: (graceMs) =>
        (stopping ??= (async () => {
          log.info('shutting down');
          runtime.background.stopping = true;
          await scheduler.stop();
          await http.close(graceMs);
          await runtime.background.drain(graceMs ?? 10_000);
          await handBackWork(runtime);
          await runtime.events.close();
          await database.close();
          log.info('stopped');
        })()),
    };
  } catch (error) {
    await http.close(0).catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}
