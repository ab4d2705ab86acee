import { and, eq, isNull } from 'drizzle-orm';
import { ConfigError } from '../config.js';
import { generateToken, hashToken, sameHash } from '../crypto.js';
import type { Runtime } from '../runtime.js';
import type { Viewer } from './rules.js';
import { apiTokens } from './tables.js';

/** The viewer a bearer token stands for, or null when it is unknown or revoked. */
export async function authenticate(rt: Runtime, token: string | null): Promise<Viewer | null> {
  if (!token) return null;
  const hash = hashToken(token);
  if (rt.config.adminToken && sameHash(hash, hashToken(rt.config.adminToken))) {
    return { tokenId: null, tokenName: 'ADMIN_TOKEN', role: 'ADMIN' };
  }
  const [row] = await rt.database.db
    .select({ id: apiTokens.id, name: apiTokens.name, role: apiTokens.role })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt)));
  return row ? { tokenId: row.id, tokenName: row.name, role: row.role } : null;
}

/**
 * Makes sure someone can log in. Without ADMIN_TOKEN, the embedded default generates an admin
 * token at first start and returns it (to be printed once; only its hash is stored). On PostgreSQL
 * several instances share the database, so one must be configured instead.
 */
export async function ensureAdminAccess(rt: Runtime): Promise<string | null> {
  if (rt.config.adminToken) return null;
  const [admin] = await rt.database.db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(and(eq(apiTokens.role, 'ADMIN'), isNull(apiTokens.revokedAt)))
    .limit(1);
  if (admin) return null;
  if (rt.config.databaseUrl) {
    throw new ConfigError('No admin can log in: set ADMIN_TOKEN (at least 16 characters, e.g. openssl rand -base64 32) to bootstrap access to this database');
  }
  const secret = generateToken();
  await rt.database.db
    .insert(apiTokens)
    .values({ name: `bootstrap-admin-${Date.now()}`, role: 'ADMIN', tokenHash: hashToken(secret) });
  return secret;
}
