import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * The operator console: static files bundled by `npm run build` into dist/console (beside
 * dist/main.js when bundled; dist/ at the repository's top when run from src/ by tsx or the tests).
 * It talks to the public API at /graphql like any other client.
 */
const DIRECTORY = fileURLToPath(
  new URL(import.meta.url.endsWith('/dist/main.js') ? './console/' : '../../dist/console/', import.meta.url),
);

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

const HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** Serves a console file when the path names one; false otherwise. */
export function serveConsole(path: string, res: ServerResponse): boolean {
  const entry = FILES[path];
  if (!entry) return false;
  readFile(DIRECTORY + entry.file).then(
    (body) => res.writeHead(200, { 'content-type': entry.type, ...HEADERS }).end(body),
    () =>
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('The console is not built: run npm run build (GraphiQL is at /graphql)\n'),
  );
  return true;
}
