import { and, eq, isNull, like, ne, sql } from 'drizzle-orm';
import { ConfigError } from '../config.js';
import { generateToken, hashToken, sameHash } from '../crypto.js';
import type { Runtime } from '../runtime.js';
import { publishOnCommit } from '../events/bus.js';
import { NameUnavailableError, NotFoundError, ValidationError, isUniqueViolation } from '../errors.js';
import type { Role, Viewer } from './rules.js';
import { apiTokens } from './tables.js';

/** Hashes of ADMIN_TOKEN values, computed once rather than on every request. */
const adminHashes = new Map<string, string>();
const adminHash = (token: string) => adminHashes.get(token) ?? adminHashes.set(token, hashToken(token)).get(token)!;

/** The viewer a bearer token stands for, or null when it is unknown or revoked. */
export async function authenticate(rt: Runtime, token: string | null): Promise<Viewer | null> {
  if (!token) return null;
  const hash = hashToken(token);
  if (rt.config.adminToken && sameHash(hash, adminHash(rt.config.adminToken))) {
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
    throw new ConfigError(
      'No admin can log in: set ADMIN_TOKEN (at least 16 characters, e.g. openssl rand -base64 32) to bootstrap access to this database',
    );
  }
  const secret = generateToken();
  await rt.database.db
    .insert(apiTokens)
    .values({ name: `bootstrap-admin-${Date.now()}`, role: 'ADMIN', tokenHash: hashToken(secret) });
  return secret;
}

/** A new API token; its secret is returned once and only its hash is stored. */
export async function createApiToken(
  rt: Runtime,
  name: string,
  role: Role,
): Promise<{ token: typeof apiTokens.$inferSelect; secret: string }> {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (name.length < 1 || name.length > 100 || name.trim() !== name || /[\u0000-\u001f]/.test(name)) {
    throw ValidationError.field(
      ['input', 'name'],
      'must be 1 to 100 characters, without leading or trailing spaces or control characters',
    );
  }
  const secret = generateToken();
  try {
    const [token] = await rt.database.db
      .insert(apiTokens)
      .values({ name, role, tokenHash: hashToken(secret) })
      .returning();
    return { token: token!, secret };
  } catch (error) {
    if (isUniqueViolation(error)) throw new NameUnavailableError(`A token named "${name}" already exists`, name, null);
    throw error;
  }
}

/** Revokes a token at once: requests with it are refused and its open WebSocket subscriptions closed. */
export async function revokeApiToken(rt: Runtime, tokenId: string): Promise<typeof apiTokens.$inferSelect> {
  return rt.database.db.transaction(async (tx) => {
    const [token] = await tx
      .update(apiTokens)
      .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
      .where(eq(apiTokens.id, tokenId))
      .returning();
    if (!token) throw new NotFoundError('ApiToken', tokenId);
    // Every instance closes what the token has open, once the revocation is committed.
    await publishOnCommit(tx, 'tokenRevoked', { tokenId });
    return token;
  });
}

/**
 * A new token named `<prefix><time>` that replaces every live token of that prefix (they are revoked
 * once it exists, so a failure leaves an extra token, never none): one live token per purpose, such
 * as the demo's, however often it is renewed.
 */
export async function renewApiToken(rt: Runtime, prefix: string, role: Role): Promise<string> {
  const { token, secret } = await createApiToken(rt, `${prefix}${new Date().toISOString()}`, role);
  const previous = await rt.database.db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(and(like(apiTokens.name, `${prefix}%`), ne(apiTokens.id, token.id), isNull(apiTokens.revokedAt)));
  for (const { id } of previous) await revokeApiToken(rt, id);
  return secret;
}
