import type { backups } from '../backup/tables.js';
import { isContentDamage } from '../backup/content.js';
import { readBackup } from '../backup/objects.js';
import { categoryOrder, itemData, parseLine, type Category } from '../backup/format.js';
import { ValidationError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { RestoreCheck } from './rules.js';

/** What the operator asked for: whole categories (no names) or named items of a category. */
export interface SelectionInput {
  category: Category;
  names?: string[] | null;
}

/** One selected category as the plan keeps it: the backup ids to restore (null: all of it), and why. */
export interface SelectedCategory {
  category: Category;
  /** Backup ids of the items restored (for control numbers and MIC values: of their agreements); null: every item. */
  ids: string[] | null;
  /** Names restored, for the operator (null: every item). */
  names: string[] | null;
  /** Items restored, for progress. */
  count: number;
}

/** A plan's selection: what is restored and the checks that explain it. */
export interface StoredSelection {
  categories: SelectedCategory[];
  checks: RestoreCheck[];
  /** For a merge: the names of every item restored, per category (to find collisions with the target). */
  itemNames?: Partial<Record<Category, string[]>>;
}

/** Items that belong to an agreement: restored with the agreements selected, never on their own. */
const OF_AGREEMENTS: Category[] = ['CONTROL_NUMBERS', 'AS2_MIC_VALUES'];
const SINGLE: Category[] = ['SERVICE_SETTINGS', 'SSL_CERTIFICATE'];

interface Named {
  id: string;
  name: string;
}

/** The names and references a selection needs, read from the backup (ids are the backup's). */
interface BackupIndex {
  named: Map<Category, Named[]>;
  profilePartner: Map<string, string>;
  agreementProfiles: Map<string, [string, string]>;
  /** Items per category; for control numbers and MIC values, per agreement too. */
  counts: Map<Category, number>;
  perAgreement: Map<Category, Map<string, number>>;
}

async function indexBackup(rt: Runtime, backup: typeof backups.$inferSelect): Promise<BackupIndex> {
  const index: BackupIndex = {
    named: new Map(),
    profilePartner: new Map(),
    agreementProfiles: new Map(),
    counts: new Map(),
    perAgreement: new Map(OF_AGREEMENTS.map((c) => [c, new Map()])),
  };
  for await (const text of readBackup(rt, backup)) {
    const line = parseLine(text);
    if (line.type !== 'item') continue;
    const { category } = line;
    index.counts.set(category, (index.counts.get(category) ?? 0) + 1);
    if (SINGLE.includes(category)) continue;
    const data = itemData(category, line.data) as Record<string, unknown>;
    if (OF_AGREEMENTS.includes(category)) {
      const per = index.perAgreement.get(category)!;
      const agreementId = String(data.agreementId);
      per.set(agreementId, (per.get(agreementId) ?? 0) + 1);
      continue;
    }
    const id = String(data.id);
    const name = String(category === 'X12_MAPPINGS' ? data.st01 : data.name);
    if (!index.named.has(category)) index.named.set(category, []);
    index.named.get(category)!.push({ id, name });
    if (category === 'PROFILES') index.profilePartner.set(id, String(data.partnerId));
    if (category === 'AGREEMENTS')
      index.agreementProfiles.set(id, [String(data.hostProfileId), String(data.guestProfileId)]);
  }
  return index;
}

/**
 * Resolves a selection against the backup's content: named items must exist (else VALIDATION_FAILED
 * naming them), and what they depend on is added (a profile brings its partner; an agreement its two
 * profiles, their partners, its control numbers and AS2 MIC values), with a check that says so.
 */
export async function resolveSelection(
  rt: Runtime,
  backup: typeof backups.$inferSelect,
  input: SelectionInput[],
  merge = false,
): Promise<StoredSelection> {
  if (input.length === 0) throw ValidationError.field(['input', 'selection'], 'must name at least one category');
  // A backup that cannot be restored gets its blocker from the plan's own checks.
  if (backup.status !== 'SUCCEEDED') return { categories: [], checks: [] };
  let index: BackupIndex;
  try {
    index = await indexBackup(rt, backup);
  } catch (error) {
    if (!isContentDamage(error)) throw error;
    return { categories: [], checks: [] }; // the plan's own checks report the damaged backup
  }
  const chosen = new Map<Category, Set<string> | null>(); // null: the whole category
  const missing: string[] = [];
  input.forEach((entry, i) => {
    const path = ['input', 'selection', String(i)];
    if (OF_AGREEMENTS.includes(entry.category))
      throw ValidationError.field([...path, 'category'], 'is restored with its agreements: select AGREEMENTS instead');
    if (merge && SINGLE.includes(entry.category))
      throw ValidationError.field(
        [...path, 'category'],
        "cannot be merged into an existing service (it would overwrite the service's own); restore it into a new service",
      );
    if (entry.names == null || SINGLE.includes(entry.category)) {
      if (entry.names != null)
        throw ValidationError.field([...path, 'names'], `must be left out: ${entry.category} has no named items`);
      chosen.set(entry.category, null);
      return;
    }
    if (entry.names.length === 0) throw ValidationError.field([...path, 'names'], 'must name at least one item');
    const items = index.named.get(entry.category) ?? [];
    const ids = chosen.get(entry.category) === null ? null : (chosen.get(entry.category) ?? new Set<string>());
    for (const name of entry.names) {
      const found = items.find((item) => item.name === name);
      if (!found) missing.push(`${entry.category} "${name}"`);
      else ids?.add(found.id);
    }
    chosen.set(entry.category, ids);
  });
  if (missing.length) throw ValidationError.field(['input', 'selection'], `not in this backup: ${missing.join(', ')}`);

  // Dependencies: agreements bring their profiles, profiles their partners.
  const added: string[] = [];
  const nameOf = (category: Category, id: string) =>
    index.named.get(category)?.find((item) => item.id === id)?.name ?? id;
  const need = (category: Category, id: string, why: string) => {
    const ids = chosen.get(category);
    if (ids === null || ids?.has(id)) return;
    if (ids) ids.add(id);
    else chosen.set(category, new Set([id]));
    added.push(`${category === 'PROFILES' ? 'profile' : 'partner'} "${nameOf(category, id)}" (${why})`);
  };
  const agreementIds = chosen.has('AGREEMENTS')
    ? (chosen.get('AGREEMENTS') ?? new Set((index.named.get('AGREEMENTS') ?? []).map((a) => a.id)))
    : new Set<string>();
  for (const id of agreementIds)
    for (const profile of index.agreementProfiles.get(id) ?? [])
      need('PROFILES', profile, `used by agreement "${nameOf('AGREEMENTS', id)}"`);
  const profileIds = chosen.has('PROFILES')
    ? (chosen.get('PROFILES') ?? new Set((index.named.get('PROFILES') ?? []).map((p) => p.id)))
    : new Set<string>();
  for (const id of profileIds)
    need('PARTNERS', index.profilePartner.get(id)!, `of profile "${nameOf('PROFILES', id)}"`);

  const categories: SelectedCategory[] = [];
  for (const category of categoryOrder) {
    if (OF_AGREEMENTS.includes(category)) {
      if (!agreementIds.size) continue;
      const per = index.perAgreement.get(category)!;
      const all = chosen.get('AGREEMENTS') === null;
      const count = [...agreementIds].reduce((n, id) => n + (per.get(id) ?? 0), 0);
      categories.push({ category, ids: all ? null : [...agreementIds], names: null, count });
      continue;
    }
    if (!chosen.has(category)) continue;
    const ids = chosen.get(category);
    const names = ids ? [...ids].map((id) => nameOf(category, id)).sort() : null;
    categories.push({
      category,
      ids: ids ? [...ids] : null,
      names,
      count: ids ? ids.size : (index.counts.get(category) ?? 0),
    });
  }
  const left = categoryOrder.filter((c) => (index.counts.get(c) ?? 0) > 0 && !categories.some((s) => s.category === c));
  const checks: RestoreCheck[] = [
    {
      code: 'PARTIAL_RESTORE',
      severity: 'INFO',
      message: `Only the selection is restored: ${categories
        .map((s) => `${s.category} (${s.names ? s.names.join(', ') : `all ${s.count}`})`)
        .join('; ')}${left.length ? `. Not restored: ${left.join(', ')}` : ''}`,
    },
  ];
  if (added.length)
    checks.push({
      code: 'SELECTION_DEPENDENCIES_ADDED',
      severity: 'INFO',
      message: `Added to the selection because what was selected needs them: ${added.join(', ')}`,
    });
  if (!merge) return { categories, checks };
  const itemNames: Partial<Record<Category, string[]>> = {};
  for (const c of categories)
    if (!OF_AGREEMENTS.includes(c.category))
      itemNames[c.category] = c.names ?? (index.named.get(c.category) ?? []).map((item) => item.name).sort();
  return { categories, checks, itemNames };
}

/** Whether an item of the backup is restored under the plan's selection (null: a full restore). */
export function selector(selection: StoredSelection | null) {
  const sets = new Map(selection?.categories.map((s) => [s.category, s.ids ? new Set(s.ids) : null]));
  return (category: Category, data: () => Record<string, unknown>): boolean => {
    if (!selection) return true;
    if (!sets.has(category)) return false;
    const ids = sets.get(category);
    if (!ids) return true;
    const item = data();
    return ids.has(String(OF_AGREEMENTS.includes(category) ? item.agreementId : item.id));
  };
}

/** Whether an agreement of the backup (by its backup id) is restored: the plan's checks look at those only. */
export function restoresAgreement(selection: StoredSelection | null): (id: string) => boolean {
  if (!selection) return () => true;
  const agreements = selection.categories.find((s) => s.category === 'AGREEMENTS');
  if (!agreements) return () => false;
  const ids = agreements.ids ? new Set(agreements.ids) : null;
  return (id) => !ids || ids.has(id);
}
