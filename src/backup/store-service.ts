import { isAbsolute, join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { SecretBox } from '../crypto.js';
import type { Queryable } from '../db/query.js';
import { InvalidStateError, isUniqueViolation, NotFoundError, ValidationError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import {
  azureBlobStore,
  azureTarget,
  DEFAULT_CONTAINER,
  directoryStore,
  type ObjectStore,
  StoreUnavailableError,
} from './object-store.js';
import type { BackupStoreKind } from './rules.js';
import { backupSchedules, backupStores, backups } from './tables.js';

export type StoreRow = typeof backupStores.$inferSelect;

/** Opens stores; chosen once at start, it keeps one open client per store version. */
export interface StoreRegistry {
  open(row: StoreRow): Promise<ObjectStore>;
  /** Where the deployment's default DIRECTORY store lives: `<DATA_DIR>/backups`. */
  defaultPath: string;
}

export function createStoreRegistry(secrets: SecretBox, dataDir: string): StoreRegistry {
  const opened = new Map<string, { version: number; store: ObjectStore }>();
  return {
    defaultPath: join(dataDir, 'backups'),
    async open(row) {
      const version = row.updatedAt.getTime();
      const cached = opened.get(row.id);
      if (cached?.version === version) return cached.store;
      const store =
        row.kind === 'DIRECTORY'
          ? directoryStore(row.name, row.path!)
          : azureBlobStore(
              row.name,
              await azureTarget(secrets.open(row.sealedCredentials!).toString('utf8'), row.container),
            );
      opened.set(row.id, { version, store });
      return store;
    },
  };
}

const DEFAULT_NAME = 'default';

/** The deployment's own store, a directory under DATA_DIR: made at start, so nothing needs configuring. */
export async function ensureDefaultStore(rt: Runtime): Promise<StoreRow> {
  const { db } = rt.database;
  const path = rt.backupStores.defaultPath;
  const [current] = await db.select().from(backupStores).where(eq(backupStores.isDefault, true));
  if (current) {
    if (current.path === path) return current;
    const [moved] = await db
      .update(backupStores)
      .set({ path, updatedAt: new Date() })
      .where(eq(backupStores.id, current.id))
      .returning();
    return moved!;
  }
  await db
    .insert(backupStores)
    .values({ name: DEFAULT_NAME, kind: 'DIRECTORY', isDefault: true, path })
    .onConflictDoNothing();
  const [made] = await db.select().from(backupStores).where(eq(backupStores.isDefault, true));
  if (!made) throw new Error(`a backup store named "${DEFAULT_NAME}" exists and is not the default`);
  return made;
}

export async function storeById(db: Queryable, id: string): Promise<StoreRow> {
  const [row] = await db.select().from(backupStores).where(eq(backupStores.id, id));
  if (!row) throw new NotFoundError('BackupStore', id);
  return row;
}

/** Where a new backup of a service goes: the store asked for, else its schedule's, else the deployment's. */
export async function storeForBackup(db: Queryable, serviceId: string, storeId?: string | null): Promise<StoreRow> {
  if (storeId) return storeById(db, storeId);
  const [schedule] = await db
    .select({ storeId: backupSchedules.storeId })
    .from(backupSchedules)
    .where(eq(backupSchedules.serviceId, serviceId));
  if (schedule?.storeId) return storeById(db, schedule.storeId);
  const [fallback] = await db.select().from(backupStores).where(eq(backupStores.isDefault, true));
  if (!fallback) throw new Error('the default backup store is missing (it is made at start)');
  return fallback;
}

export interface StoreInput {
  name?: string | null;
  kind?: BackupStoreKind;
  path?: string | null;
  /** AZURE_BLOB: a connection string or a container SAS URL. */
  credentials?: string | null;
  container?: string | null;
}

function validateStoreName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$/.test(name))
    throw ValidationError.field(
      ['input', 'name'],
      'must be 1 to 63 characters: letters, digits, spaces, dots, hyphens and underscores, starting with a letter or digit',
    );
}

/** The columns a store's kind needs, checked: a DIRECTORY must be writable, AZURE_BLOB credentials must parse. */
async function storeColumns(rt: Runtime, name: string, kind: BackupStoreKind, input: StoreInput) {
  if (kind === 'DIRECTORY') {
    const path = input.path?.trim();
    if (!path || !isAbsolute(path))
      throw ValidationError.field(['input', 'path'], 'a DIRECTORY store needs an absolute path on the server');
    if (input.credentials != null || input.container != null)
      throw ValidationError.field(['input', 'credentials'], 'a DIRECTORY store takes no credentials nor container');
    try {
      await directoryStore(name, path).probe();
    } catch (error) {
      const detail = error instanceof StoreUnavailableError ? error.detail : 'unknown error';
      throw ValidationError.field(['input', 'path'], `cannot be written by the server (${detail})`);
    }
    return { path, container: null };
  }
  if (input.path != null) throw ValidationError.field(['input', 'path'], 'an AZURE_BLOB store takes no path');
  const container = input.container?.trim() || null;
  if (container !== null && !/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(container))
    throw ValidationError.field(
      ['input', 'container'],
      'must be a container name: 3 to 63 lowercase letters, digits and single hyphens',
    );
  if (input.credentials == null) return { path: null, container: container ?? DEFAULT_CONTAINER };
  let target: Awaited<ReturnType<typeof azureTarget>>;
  try {
    target = await azureTarget(input.credentials, container ?? DEFAULT_CONTAINER);
  } catch {
    // Never the value itself in the message.
    throw ValidationError.field(
      ['input', 'credentials'],
      'is neither an Azure Storage connection string (AccountName=…;AccountKey=… or BlobEndpoint=…;SharedAccessSignature=…) nor a container SAS URL (https://…/container?…&sig=…)',
    );
  }
  return {
    path: null,
    container: /^https?:/i.test(input.credentials.trim()) ? null : (container ?? DEFAULT_CONTAINER),
    sealedCredentials: rt.secrets.seal(input.credentials.trim()),
    credentialsFingerprint: rt.secrets.fingerprint(input.credentials.trim()),
    credentialsUpdatedAt: new Date(),
    accountName: target.accountName,
    endpoint: target.endpoint,
  };
}

export async function createBackupStore(rt: Runtime, input: StoreInput & { name: string; kind: BackupStoreKind }) {
  const name = input.name.trim();
  validateStoreName(name);
  if (input.kind === 'AZURE_BLOB' && !input.credentials?.trim())
    throw ValidationError.field(['input', 'credentials'], 'an AZURE_BLOB store needs a connection string or SAS URL');
  const columns = await storeColumns(rt, name, input.kind, input);
  try {
    const [row] = await rt.database.db
      .insert(backupStores)
      .values({ name, kind: input.kind, ...columns })
      .returning();
    return row!;
  } catch (error) {
    if (isUniqueViolation(error)) throw ValidationError.field(['input', 'name'], 'another backup store has this name');
    throw error;
  }
}

/** Renames a store or replaces its path or credentials (e.g. a rotated key); its kind stays. */
export async function updateBackupStore(rt: Runtime, id: string, input: StoreInput) {
  const current = await storeById(rt.database.db, id);
  if (current.isDefault)
    throw new InvalidStateError("The deployment's default store follows DATA_DIR and cannot be changed", 'DEFAULT');
  const name = input.name?.trim() ?? current.name;
  validateStoreName(name);
  const changes =
    input.path != null || input.credentials != null || input.container != null
      ? await storeColumns(rt, name, current.kind, {
          ...input,
          container: input.container ?? (current.kind === 'AZURE_BLOB' ? current.container : null),
        })
      : {};
  try {
    const [row] = await rt.database.db
      .update(backupStores)
      .set({ name, ...changes, updatedAt: new Date() })
      .where(eq(backupStores.id, id))
      .returning();
    return row!;
  } catch (error) {
    if (isUniqueViolation(error)) throw ValidationError.field(['input', 'name'], 'another backup store has this name');
    throw error;
  }
}

/** Deletes a store's registration (never its objects); refused while backups or schedules use it. */
export async function deleteBackupStore(rt: Runtime, id: string) {
  return rt.database.db.transaction(async (tx) => {
    const [row] = await tx.select().from(backupStores).where(eq(backupStores.id, id)).for('update');
    if (!row) throw new NotFoundError('BackupStore', id);
    if (row.isDefault) throw new InvalidStateError("The deployment's default store cannot be deleted", 'DEFAULT');
    const held = await tx.$count(backups, eq(backups.storeId, id));
    if (held)
      throw new InvalidStateError(
        `${held} backup(s) live in this store; delete them (or their registration) first`,
        'IN_USE',
      );
    const scheduled = await tx.$count(backupSchedules, eq(backupSchedules.storeId, id));
    const copying = await tx.$count(backupSchedules, eq(backupSchedules.copyStoreId, id));
    if (scheduled + copying)
      throw new InvalidStateError('A backup schedule writes or copies to this store; change it first', 'IN_USE');
    await tx.delete(backupStores).where(eq(backupStores.id, id));
    return row;
  });
}
