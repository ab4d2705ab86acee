import { startApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { renewApiToken } from './auth/service.js';
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
    // One admin token for the demo: the one just generated on a fresh data directory; on a re-run a
    // new one that revokes the previous demo token (only hashes are stored, so none can be shown again).
    const token = app.generatedAdminToken ?? (await renewApiToken(app.runtime, 'demo-admin-', 'ADMIN'));
    await seedDemo(app, token);
    process.stdout.write(
      app.generatedAdminToken
        ? `The demo environment is ready: sign in with the admin token above.\n\n`
        : `\nThe demo environment is ready. Its admin token (shown once; the previous demo token is revoked):\n\n  ${token}\n\n`,
    );
  }
  process.stdout.write(
    `BizTalk Backup is ready:\n  console   http://localhost:${app.port}/\n  GraphiQL  http://localhost:${app.port}/graphql\n` +
      `Stop it with Ctrl+C.\n\n`,
  );
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
