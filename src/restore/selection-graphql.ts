import { categoryOrder, type Category } from '../backup/format.js';
import { builder } from '../graphql/builder.js';
import type { SelectedCategory } from './selection.js';

export const BackupCategoryEnum = builder.enumType('BackupCategory', {
  description: 'A category of what a backup holds, in backup order.',
  values: Object.fromEntries(
    categoryOrder.map((c) => [c, { description: `The ${c.toLowerCase().replaceAll('_', ' ')} of the service.` }]),
  ) as Record<Category, { description: string }>,
});

export const RestoreSelectionInput = builder.inputType('RestoreSelectionInput', {
  description:
    'One category to restore, whole or by the names of its items. CONTROL_NUMBERS and AS2_MIC_VALUES come with their agreements and cannot be selected alone.',
  fields: (t) => ({
    category: t.field({ type: BackupCategoryEnum, required: true, description: 'The category.' }),
    names: t.stringList({
      description:
        'Only these items, by name (X12 mappings by ST01); left out: the whole category. An agreement brings its profiles and their partners.',
    }),
  }),
});

export const RestoreSelection = builder.objectRef<SelectedCategory>('RestoreSelection').implement({
  description: 'One category a partial restore restores, with what it needed added.',
  fields: (t) => ({
    category: t.field({ type: BackupCategoryEnum, description: 'The category.', resolve: (s) => s.category }),
    names: t.exposeStringList('names', {
      nullable: true,
      description: 'The items restored, by name, dependencies included; null: every item of the category.',
    }),
    count: t.exposeInt('count', { description: 'How many items are restored.' }),
  }),
});

export const CollisionPolicyEnum = builder.enumType('CollisionPolicy', {
  description:
    'What a merge (createRestorePlan with targetServiceId) does with a restored item whose name the target service already has, per category.',
  values: {
    SKIP: {
      description:
        "The target's item is kept and the backup's is not restored; restored items that use it (an agreement's profiles, a profile's partner) use the target's (default).",
    },
    REPLACE: {
      description:
        "The target's item takes the backup's content and keeps its identity, so what uses it keeps working; a replaced agreement takes the backup's control numbers and AS2 MIC values.",
    },
    RENAME: {
      description:
        'The backup\'s item is restored under a new name, "<name>-restored-<n>" with the lowest free n; a check blocks the plan when no valid name exists (an X12 mapping is named by its ST01 code).',
    },
  },
});
