import { InvalidStateError, NotFoundError } from '../errors.js';
import { defineMutation } from '../graphql/mutation.js';
import { Backup, backupResult } from './graphql.js';
import { StoreUnavailableError } from './object-store.js';
import { BackupStore } from './store-graphql.js';
import { copyBackup, importBackups } from './transfer.js';

defineMutation('importBackups', {
  description:
    'Lists the backups a store holds that this deployment does not know (after losing the database, or from another deployment) and registers them (ADMIN): readable ones as SUCCEEDED and restorable, ones written under another ENCRYPTION_KEY as UNREADABLE with the reason. Running it again imports nothing twice.',
  scope: 'admin',
  errors: [NotFoundError, StoreUnavailableError],
  input: (t) => ({ storeId: t.globalID({ for: BackupStore, required: true, description: 'The store to look in.' }) }),
  resolve: async (input, ctx) => ({ backups: await importBackups(ctx.runtime, input.storeId.id) }),
  success: (t) => ({
    backups: t.field({ type: [Backup], description: 'The backups registered now.', resolve: (r) => r.backups }),
  }),
});

defineMutation('copyBackup', {
  description:
    'Copies a SUCCEEDED backup into another store (e.g. another region) under the same name, and verifies the copy by reading it back. The copy is a backup of its own, restorable like the original.',
  scope: 'operator',
  errors: [NotFoundError, InvalidStateError, StoreUnavailableError],
  input: (t) => ({
    backupId: t.globalID({ for: Backup, required: true, description: 'The backup to copy.' }),
    storeId: t.globalID({ for: BackupStore, required: true, description: 'The store to copy it into.' }),
  }),
  resolve: async (input, ctx) => ({
    backup: await copyBackup(ctx.runtime, input.backupId.id, input.storeId.id),
  }),
  success: backupResult,
});
