import { startApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { seedDemo } from './demo.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await startApp(config);
  if (app.generatedAdminToken) {
    // Printed once, never logged: only its hash is stored.
    process.stdout.write(
      `\nAn admin token was generated for this data directory. Keep it; it is not shown again:\n\n  ${app.generatedAdminToken}\n\n` +
        `Use it as the header  Authorization: Bearer <token>\n\n`,
    );
  }
  if (process.argv.includes('--demo')) {
    const token = await seedDemo(app);
    process.stdout.write(
      `\nThe demo environment is ready. A demo admin token (shown once):\n\n  ${token}\n\nIn GraphiQL, open Headers and paste:  {"Authorization": "Bearer ${token}"}\n\n`,
    );
  }
  process.stdout.write(`BizTalk Backup is ready: GraphiQL at http://localhost:${app.port}/graphql\n`);
  const shutdown = (signal: string) => {
    app.runtime.log.info({ signal }, 'signal received');
    app.stop().then(
      () => process.exit(0),
      (error) => {
        app.runtime.log.error({ errorName: (error as Error).name }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${error.message}\n`);
  } else {
    process.stderr.write(`Failed to start: ${(error as Error)?.message ?? String(error)}\n`);
  }
  process.exit(1);
});
