import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Node loads graphql's CommonJS build for the libraries; vite would pick its .mjs for our code.
  // Two copies of graphql break everything ("another module or realm"): use the one Node uses.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // --expose-gc: the fuzz test measures memory after a collection.
    execArgv: ['--expose-gc'],
  },
});
