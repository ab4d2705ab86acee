import { InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { compareBackups, diffFromLive, LISTED_NAMES, type BackupDiff, type CategoryDiff } from './diff.js';
import { Backup } from './graphql.js';

const ChangedItem = builder.objectRef<{ name: string; fields: string[] }>('ChangedItem').implement({
  description: 'An item present on both sides whose content differs.',
  fields: (t) => ({
    name: t.exposeString('name', {
      description:
        'Its name (a profile or agreement by its own name, control numbers by their agreement, an AS2 MIC value as agreement/message id, X12 mappings by ST01).',
    }),
    fields: t.exposeStringList('fields', {
      description:
        'The fields that differ, e.g. ["mapContent"] or ["ACS_ISSUER_KEY"]; a secret is compared by its fingerprint only, its value is never read.',
    }),
  }),
});

export const CategoryDiffType = builder.objectRef<CategoryDiff>('CategoryDiff').implement({
  description: `What differs in one category. Each list holds at most ${LISTED_NAMES} names, in name order; the counts are complete.`,
  fields: (t) => ({
    category: t.exposeString('category', { description: 'The category, e.g. PARTNERS, AGREEMENTS, SERVICE_SETTINGS.' }),
    added: t.exposeStringList('added', { description: 'Names present only on the side compared to.' }),
    removed: t.exposeStringList('removed', { description: 'Names present only on the side compared from.' }),
    changed: t.field({
      type: [ChangedItem],
      description: 'Names on both sides whose content differs.',
      resolve: (c) => c.changed,
    }),
    addedCount: t.exposeInt('addedCount', { description: 'How many names were added.' }),
    removedCount: t.exposeInt('removedCount', { description: 'How many names were removed.' }),
    changedCount: t.exposeInt('changedCount', { description: 'How many items changed.' }),
  }),
});

export const BackupDiffType = builder.objectRef<BackupDiff>('BackupDiff').implement({
  description:
    'What changed between two states of a service, per category, by name. Both sides are read as streams and compared in sorted order by the database, so memory stays bounded however large the backups.',
  fields: (t) => ({
    identical: t.boolean({
      description: 'True when nothing differs.',
      resolve: (d) => d.categories.length === 0,
    }),
    categories: t.field({
      type: [CategoryDiffType],
      description: 'The categories with at least one difference, in backup order.',
      resolve: (d) => d.categories,
    }),
  }),
});

builder.queryField('compareBackups', (t) =>
  t.field({
    type: BackupDiffType,
    description:
      'What changed from backup `a` to backup `b` (both SUCCEEDED): items added in b, removed from a, and changed, per category.',
    authScopes: { reader: true },
    errors: {
      types: [ValidationError, NotFoundError, InvalidStateError],
      union: { description: 'The differences, or why the backups cannot be compared.' },
    },
    args: {
      a: t.arg.globalID({ for: Backup, required: true, description: 'The backup compared from (usually the older).' }),
      b: t.arg.globalID({ for: Backup, required: true, description: 'The backup compared to.' }),
    },
    resolve: (_root, args, ctx) => compareBackups(ctx.runtime, args.a.id, args.b.id),
  }),
);

builder.drizzleObjectFields(Backup, (t) => ({
  diffFromLive: t.field({
    type: BackupDiffType,
    description:
      "What changed in the backup's service since the backup was taken (added: created since; removed: deleted since). Fails with INVALID_STATE when the service is DELETED or the backup is not SUCCEEDED.",
    errors: {
      types: [NotFoundError, InvalidStateError],
      union: { description: 'The differences, or why the backup cannot be compared with its service.' },
    },
    select: { columns: { id: true } },
    resolve: (backup, _args, ctx) => diffFromLive(ctx.runtime, backup.id),
  }),
}));
