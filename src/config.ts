import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Limits that protect the server from abusive requests (SPEC §4). */
export interface AbuseLimits {
  maxBodyBytes: number;
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxTokens: number;
  /** The largest request body without a valid token (only introspection runs without one). */
  maxAnonymousBodyBytes: number;
  /** The largest operation text (`query`), apart from its variables: documents are small. */
  maxQueryBytes: number;
  /** Requests a second a token may make (a bucket of `rateBurstSeconds` seconds' worth). */
  tokenRatePerSecond: number;
  /** Requests a second an address may make without a valid token (no token or a bad one). */
  anonymousRatePerSecond: number;
  /** How many seconds' worth of requests a client may send at once before the rate applies. */
  rateBurstSeconds: number;
  /** Open subscriptions one WebSocket may hold. */
  maxSubscriptionsPerConnection: number;
  /** Open subscriptions one token may hold on this instance, over all its WebSockets. */
  maxSubscriptionsPerToken: number;
  /** How long a client may take to send a request's headers (node:http headersTimeout). */
  headersTimeoutMs: number;
  /** How long a client may take to send a whole request, body included (node:http requestTimeout). */
  requestTimeoutMs: number;
  /** The shortest interval between scheduled backups, for every edition; undefined: each edition's own. */
  scheduleMinIntervalSeconds: number | undefined;
}

/** Who may read /metrics: nobody (off), anyone (no token), or those who send METRICS_TOKEN. */
export interface MetricsAccess {
  enabled: boolean;
  token: string | undefined;
}

export interface Config {
  port: number;
  /** PostgreSQL through postgres.js when set; embedded PGlite in `dataDir` otherwise. */
  databaseUrl: string | undefined;
  dataDir: string;
  encryptionKey: Buffer;
  adminToken: string | undefined;
  nameHoldSeconds: number;
  logLevel: LogLevel;
  graphiql: boolean;
  /** How often each instance looks for due backup schedules. */
  schedulerIntervalMs: number;
  limits: AbuseLimits;
  metrics: MetricsAccess;
  /** Origins allowed to call the API from a browser with credentials; empty: none (same origin only). */
  corsOrigins: string[];
}

/** A configuration mistake: the message tells the operator what to set. */
export class ConfigError extends Error {}

const logLevels: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${name} must be true or false, got "${raw}"`);
  return raw === 'true';
}

/** CORS_ORIGINS: a comma-separated list of exact origins (scheme://host[:port]). */
function origins(raw: string | undefined): string[] {
  const list = (raw ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {}
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw new ConfigError(
        `CORS_ORIGINS must list origins like https://app.example.com (scheme, host and port only, no '*'), got "${origin}"`,
      );
    }
  }
  return list;
}

function parseKey(raw: string, source: string): Buffer {
  const key = Buffer.from(raw.trim(), 'base64');
  if (key.length !== 32) {
    throw new ConfigError(
      `${source} must be 32 bytes encoded in base64 (try: openssl rand -base64 32), got ${key.length} bytes`,
    );
  }
  return key;
}

/** On the embedded default the key lives beside the data it protects, created at first start. */
function embeddedKey(dataDir: string): Buffer {
  const file = join(dataDir, 'encryption.key');
  if (existsSync(file)) return parseKey(readFileSync(file, 'utf8'), file);
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600 });
  return key;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const dataDir = resolve(env.DATA_DIR || './.data');
  let encryptionKey: Buffer;
  if (env.ENCRYPTION_KEY) encryptionKey = parseKey(env.ENCRYPTION_KEY, 'ENCRYPTION_KEY');
  else if (databaseUrl) {
    throw new ConfigError(
      'ENCRYPTION_KEY is required with DATABASE_URL: set it to 32 random bytes in base64 (openssl rand -base64 32) and keep it safe; secrets and backups cannot be read without it',
    );
  } else encryptionKey = embeddedKey(dataDir);

  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!logLevels.includes(logLevel))
    throw new ConfigError(`LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${env.LOG_LEVEL}"`);
  const adminToken = env.ADMIN_TOKEN || undefined;
  if (adminToken !== undefined && adminToken.length < 16)
    throw new ConfigError('ADMIN_TOKEN must be at least 16 characters long');
  if (env.GRAPHIQL && !['true', 'false'].includes(env.GRAPHIQL))
    throw new ConfigError('GRAPHIQL must be true or false');
  const metricsToken = env.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && metricsToken.length < 16)
    throw new ConfigError('METRICS_TOKEN must be at least 16 characters long');
  const headersTimeoutMs = integer(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = integer(env, 'REQUEST_TIMEOUT_MS', 60_000, 100, 3_600_000);
  if (requestTimeoutMs < headersTimeoutMs)
    throw new ConfigError(
      `REQUEST_TIMEOUT_MS (${requestTimeoutMs}) must not be shorter than HEADERS_TIMEOUT_MS (${headersTimeoutMs})`,
    );
  const scheduleMinInterval = env.SCHEDULE_MIN_INTERVAL_SECONDS
    ? integer(env, 'SCHEDULE_MIN_INTERVAL_SECONDS', 0, 1, 31 * 86400)
    : undefined;

  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    databaseUrl,
    dataDir,
    encryptionKey,
    adminToken,
    nameHoldSeconds: integer(env, 'NAME_HOLD_SECONDS', 3600, 0, 10 * 365 * 86400),
    logLevel,
    graphiql: env.GRAPHIQL !== 'false',
    schedulerIntervalMs: integer(env, 'SCHEDULER_INTERVAL_MS', 1000, 50, 3_600_000),
    limits: {
      maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 8 * 1024 * 1024, 1024, 512 * 1024 * 1024),
      maxDepth: integer(env, 'MAX_QUERY_DEPTH', 12, 2, 100),
      maxAliases: integer(env, 'MAX_QUERY_ALIASES', 30, 1, 1000),
      maxCost: integer(env, 'MAX_QUERY_COST', 20_000, 10, 10_000_000),
      maxTokens: integer(env, 'MAX_QUERY_TOKENS', 5000, 100, 1_000_000),
      maxAnonymousBodyBytes: integer(env, 'MAX_ANONYMOUS_BODY_BYTES', 64 * 1024, 1024, 512 * 1024 * 1024),
      maxQueryBytes: integer(env, 'MAX_QUERY_BYTES', 100_000, 1024, 512 * 1024 * 1024),
      tokenRatePerSecond: integer(env, 'RATE_LIMIT_TOKEN_PER_SECOND', 5000, 1, 1_000_000),
      anonymousRatePerSecond: integer(env, 'RATE_LIMIT_ANONYMOUS_PER_SECOND', 100, 1, 1_000_000),
      rateBurstSeconds: integer(env, 'RATE_LIMIT_BURST_SECONDS', 10, 1, 3600),
      maxSubscriptionsPerConnection: integer(env, 'MAX_SUBSCRIPTIONS_PER_CONNECTION', 100, 1, 1_000_000),
      maxSubscriptionsPerToken: integer(env, 'MAX_SUBSCRIPTIONS_PER_TOKEN', 2000, 1, 10_000_000),
      headersTimeoutMs,
      requestTimeoutMs,
      scheduleMinIntervalSeconds: scheduleMinInterval,
    },
    metrics: {
      enabled: flag(env, 'METRICS') ?? (metricsToken !== undefined || env.NODE_ENV !== 'production'),
      token: metricsToken,
    },
    corsOrigins: origins(env.CORS_ORIGINS),
  };
}
