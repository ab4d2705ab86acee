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
