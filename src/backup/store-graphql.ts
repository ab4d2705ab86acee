import { encodeGlobalID } from '@pothos/plugin-relay';
import { InvalidStateError, NotFoundError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { ErrorInterface } from '../graphql/errors.js';
import { defineMutation } from '../graphql/mutation.js';
import { SecretInfo } from '../service/graphql.js';
import { StoreUnavailableError } from './object-store.js';
import { type backupStoreKinds, BackupUnreadableError } from './rules.js';
import * as stores from './store-service.js';

const BackupStoreKindEnum = builder.enumType('BackupStoreKind', {
  description: 'Where a backup store keeps its objects.',
  values: {
    DIRECTORY: { description: "A directory on the server's disk (or a share mounted there)." },
    AZURE_BLOB: { description: 'A container of an Azure Storage account (Blob Storage).' },
  } satisfies Record<(typeof backupStoreKinds)[number], unknown>,
});

export const BackupStore = builder.drizzleNode('backupStores', {
  name: 'BackupStore',
  description:
    'Storage that keeps backups outside the database: each backup is a folder of a signed manifest and encrypted chunks, restorable by any deployment with the same ENCRYPTION_KEY.',
  id: { column: (s) => s.id },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Its name, unique in this deployment.' }),
    kind: t.field({
      type: BackupStoreKindEnum,
      description: 'Directory or Azure Blob Storage.',
      resolve: (s) => s.kind,
    }),
    isDefault: t.exposeBoolean('isDefault', {
      description: "The deployment's own store (a directory under DATA_DIR), used when nothing else is named.",
    }),
    path: t.exposeString('path', { nullable: true, description: 'DIRECTORY: the directory on the server.' }),
    container: t.exposeString('container', {
      nullable: true,
      description: 'AZURE_BLOB with a connection string: the container (made if missing).',
    }),
    accountName: t.exposeString('accountName', { nullable: true, description: 'AZURE_BLOB: the storage account.' }),
    endpoint: t.exposeString('endpoint', {
      nullable: true,
      description: "AZURE_BLOB: the container's URL (without any SAS).",
    }),
    credentials: t.field({
      type: SecretInfo,
      nullable: true,
      description: 'AZURE_BLOB: the connection string or SAS URL, as SecretInfo only (never its value).',
      resolve: (s) =>
        s.kind === 'AZURE_BLOB'
          ? {
              stored:
                s.credentialsFingerprint && s.credentialsUpdatedAt
                  ? { fingerprint: s.credentialsFingerprint, updatedAt: s.credentialsUpdatedAt }
                  : undefined,
            }
          : null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was registered.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it was last changed.' }),
  }),
});

builder.queryFields((t) => ({
  backupStores: t.drizzleField({
    type: ['backupStores'],
    description: 'Every backup store, the default first.',
    authScopes: { operator: true },
    resolve: (query, _root, _args, ctx) =>
      ctx.db.query.backupStores.findMany(query({ orderBy: { isDefault: 'desc', name: 'asc' } })),
  }),
}));

builder.objectType(StoreUnavailableError, {
  name: 'StoreUnavailableError',
  description:
    'A backup store could not be reached or refused the request (code STORE_UNAVAILABLE); retried with backoff first.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    storeName: t.exposeString('storeName', { description: 'The store.' }),
  }),
});

builder.objectType(BackupUnreadableError, {
  name: 'BackupUnreadableError',
  description: 'The backup cannot be read here (code BACKUP_UNREADABLE): e.g. written under another ENCRYPTION_KEY.',
  interfaces: [ErrorInterface],
});

const storeFields = {
  path: 'DIRECTORY: an absolute path on the server; it must be writable (checked now).',
  credentials:
    'AZURE_BLOB: an Azure Storage connection string, or a container SAS URL (with read, add, create, write, delete and list permissions). Sealed at once; never shown again.',
  container: 'AZURE_BLOB with a connection string: the container to use (default biztalk-backups; made if missing).',
};

defineMutation('createBackupStore', {
  description: 'Registers a backup store (ADMIN). A DIRECTORY must be writable by the server.',
  scope: 'admin',
  errors: [],
  input: (t) => ({
    name: t.string({ required: true, description: 'A name, unique in this deployment.' }),
    kind: t.field({ type: BackupStoreKindEnum, required: true, description: 'Directory or Azure Blob Storage.' }),
    path: t.string({ description: storeFields.path }),
    credentials: t.string({ description: storeFields.credentials }),
    container: t.string({ description: storeFields.container }),
  }),
  resolve: async (input, ctx) => ({ backupStore: await stores.createBackupStore(ctx.runtime, input) }),
  success: (t) => ({
    backupStore: t.field({ type: BackupStore, description: 'The store.', resolve: (r) => r.backupStore }),
  }),
});

defineMutation('updateBackupStore', {
  description:
    'Renames a backup store or replaces its path, container or credentials (e.g. a rotated account key); its kind stays (ADMIN).',
  scope: 'admin',
  errors: [NotFoundError, InvalidStateError],
  input: (t) => ({
    storeId: t.globalID({ for: BackupStore, required: true, description: 'The store.' }),
    name: t.string({ description: 'A new name.' }),
    path: t.string({ description: storeFields.path }),
    credentials: t.string({ description: storeFields.credentials }),
    container: t.string({ description: storeFields.container }),
  }),
  resolve: async ({ storeId, ...input }, ctx) => ({
    backupStore: await stores.updateBackupStore(ctx.runtime, storeId.id, input),
  }),
  success: (t) => ({
    backupStore: t.field({ type: BackupStore, description: 'The store.', resolve: (r) => r.backupStore }),
  }),
});

defineMutation('deleteBackupStore', {
  description:
    'Forgets a backup store (ADMIN); its objects stay where they are. Refused while backups live in it or a schedule uses it.',
  scope: 'admin',
  errors: [NotFoundError, InvalidStateError],
  input: (t) => ({ storeId: t.globalID({ for: BackupStore, required: true, description: 'The store.' }) }),
  resolve: async (input, ctx) => {
    await stores.deleteBackupStore(ctx.runtime, input.storeId.id);
    return { deletedId: encodeGlobalID('BackupStore', input.storeId.id) };
  },
  success: (t) => ({
    deletedId: t.id({ description: 'Global id of the deleted store.', resolve: (r) => r.deletedId }),
  }),
});
