import { getTableName, sql, type SQL } from 'drizzle-orm';
import { assertWithinLimits } from '../artifact/rules.js';
import { countUsage } from '../artifact/usage.js';
import { categories, type Category, type RowCategory } from '../backup/format.js';
import type { Queryable, Tx } from '../db/query.js';
import { as2MicValues, controlNumbers } from '../edi/tables.js';
import type { Edition } from '../service/rules.js';
import type { CollisionPolicy, RestoreCheck } from './rules.js';

/**
 * A merge restores a selection into an existing service: the worker fills a staging service
 * (`merge-<plan id>`) as any restore does, then ONE transaction (`mergeInto`) moves its rows into the
 * target, category by category, doing with each item whose name the target already has what the plan
 * says (SKIP, REPLACE or RENAME). What the moved rows refer to (a profile's partner, an agreement's
 * profiles) follows: to the target's own item when the restored one was skipped or replaced.
 */

/** The categories a merge can bring, in the order their rows move (what is referred to first). */
const MERGED = [
  'PARTNERS',
  'PROFILES',
  'AGREEMENTS',
  'CUSTOM_ASSEMBLIES',
  'BRIDGES',
  'CERTIFICATES',
  'TRANSFORMS',
  'PIPELINES',
  'TEMPLATES',
  'X12_MAPPINGS',
] as const satisfies RowCategory[];
type Merged = (typeof MERGED)[number];

/** The column an item's name is in (X12 mappings are named by their ST01). */
const nameColumn = (category: Merged) => (category === 'X12_MAPPINGS' ? 'st01' : 'name');
const table = (category: Merged) => sql.identifier(getTableName(categories[category].table));

/** Longest artifact name (artifact/rules.ts). */
const MAX_NAME = 100;

/**
 * The name a renamed item gets: `<name>-restored-<n>`, the lowest n not taken in the target nor by
 * another restored item; null when none is valid (an X12 mapping's name is its ST01 code; a name near
 * the length limit has no room).
 */
export function renamed(category: Category, name: string, taken: Set<string>): string | null {
  if (category === 'X12_MAPPINGS') return null;
  for (let n = 1; n < 1000; n++) {
    const candidate = `${name}-restored-${n}`;
    if (candidate.length > MAX_NAME) return null;
    if (!taken.has(candidate)) return candidate;
  }
  return null;
}

type Db = Queryable<'execute'>;

/** The rows a statement returned (PGlite answers { rows }, postgres.js an array). */
async function rowsOf<T>(db: Db, statement: SQL): Promise<T[]> {
  const result = (await db.execute(statement)) as unknown as { rows?: T[] };
  return result.rows ?? (result as unknown as T[]);
}

/** Every name a service has in a category. */
async function namesIn(db: Db, serviceId: string, category: Merged): Promise<Set<string>> {
  const name = sql.identifier(nameColumn(category));
  const rows = await rowsOf<{ name: string }>(
    db,
    sql`select ${name} as name from ${table(category)} where service_id = ${serviceId}`,
  );
  return new Set(rows.map((r) => r.name));
}

export interface Collision {
  category: Merged;
  name: string;
  /** RENAME: the new name, or null when no valid one exists. */
  newName: string | null;
}

/** The restored items whose names the target has, in category then name order, with their new names for RENAME. */
export async function findCollisions(
  db: Db,
  targetId: string,
  itemNames: Partial<Record<Category, string[]>>,
  policy: CollisionPolicy,
): Promise<Collision[]> {
  const found: Collision[] = [];
  for (const category of MERGED) {
    const restored = itemNames[category];
    if (!restored?.length) continue;
    const existing = await namesIn(db, targetId, category);
    const taken = new Set([...existing, ...restored]);
    for (const name of [...restored].sort()) {
      if (!existing.has(name)) continue;
      const newName = policy === 'RENAME' ? renamed(category, name, taken) : null;
      if (newName) taken.add(newName);
      found.push({ category, name, newName });
    }
  }
  return found;
}

/** One check per collision, saying what the merge will do with it (a BLOCKER when a rename is impossible). */
export function collisionChecks(collisions: Collision[], targetName: string, policy: CollisionPolicy): RestoreCheck[] {
  return collisions.map(({ category, name, newName }) => {
    const item = `${category} "${name}" is also in "${targetName}"`;
    if (policy === 'SKIP')
      return {
        code: 'NAME_COLLISION',
        severity: 'INFO',
        message: `${item}: skipped, the target's is kept (restored items that use it will use the target's)`,
      };
    if (policy === 'REPLACE')
      return {
        code: 'NAME_COLLISION',
        severity: 'WARNING',
        message: `${item}: replaced by the backup's (what uses the target's keeps using it, with the backup's content)`,
      };
    return newName
      ? { code: 'NAME_COLLISION', severity: 'INFO', message: `${item}: restored as "${newName}"` }
      : {
          code: 'NAME_COLLISION',
          severity: 'BLOCKER',
          message: `${item} and cannot be renamed (${category === 'X12_MAPPINGS' ? 'an X12 mapping is named by its ST01 code' : `no name of at most ${MAX_NAME} characters is free`}); choose SKIP or REPLACE`,
        };
  });
}

/** Staging rows (s) paired with the target's rows of the same name (g), for UPDATE … FROM and DELETE … USING. */
function pairs(category: Merged, stagingId: string, targetId: string): { from: SQL; where: SQL } {
  const name = sql.identifier(nameColumn(category));
  return {
    from: sql`${table(category)} s, ${table(category)} g`,
    where: sql`s.service_id = ${stagingId} and g.service_id = ${targetId} and g.${name} = s.${name}`,
  };
}

/** What refers to a category's items from other staging rows: they follow a skipped or replaced item to the target's. */
const references: Partial<Record<Merged, { table: string; column: string }[]>> = {
  PARTNERS: [{ table: 'profiles', column: 'partner_id' }],
  PROFILES: [
    { table: 'agreements', column: 'host_profile_id' },
    { table: 'agreements', column: 'guest_profile_id' },
  ],
};

/**
 * Moves the staging service's rows into the target in the caller's transaction. Fails (and so changes
 * nothing) on a clash the names do not show (a profile's identity, a bridge's address) or when the
 * target's edition limits would be exceeded.
 */
export async function mergeInto(
  tx: Tx,
  plan: { stagingId: string; targetId: string; policy: CollisionPolicy; edition: Edition; scaleUnits: number },
): Promise<{ moved: number; skipped: number; replaced: number; renamed: number }> {
  const { stagingId, targetId, policy } = plan;
  const counts = { moved: 0, skipped: 0, replaced: 0, renamed: 0 };
  for (const category of MERGED) {
    const t = table(category);
    const staged = await namesIn(tx, stagingId, category);
    if (!staged.size) continue;
    const collisions = await findCollisions(tx, targetId, { [category]: [...staged] }, policy);
    if (collisions.length && policy !== 'RENAME') {
      const { from, where } = pairs(category, stagingId, targetId);
      if (policy === 'REPLACE') {
        const columns = Object.values(categories[category].columns)
          .map((c) => c.name)
          .filter((c) => c !== 'id');
        const set = sql.join(
          [...columns.map((c) => sql`${sql.identifier(c)} = s.${sql.identifier(c)}`), sql`updated_at = now()`],
          sql`, `,
        );
        await tx.execute(sql`update ${t} g set ${set} from ${t} s where ${where}`);
        if (category === 'AGREEMENTS')
          for (const owned of [controlNumbers, as2MicValues]) {
            // The target's agreement takes the backup's control numbers and MIC values.
            const o = sql.identifier(getTableName(owned));
            await tx.execute(sql`delete from ${o} c using ${from} where c.agreement_id = g.id and ${where}`);
            await tx.execute(
              sql`update ${o} c set agreement_id = g.id from ${from} where c.agreement_id = s.id and ${where}`,
            );
          }
      }
      for (const ref of references[category] ?? []) {
        const r = sql.identifier(ref.table);
        const column = sql.identifier(ref.column);
        await tx.execute(
          sql`update ${r} x set ${column} = g.id from ${from} where x.service_id = ${stagingId} and x.${column} = s.id and ${where}`,
        );
      }
      await tx.execute(sql`delete from ${t} s using ${t} g where ${where}`);
      counts[policy === 'SKIP' ? 'skipped' : 'replaced'] += collisions.length;
    }
    if (policy === 'RENAME')
      for (const c of collisions) {
        const name = sql.identifier(nameColumn(category));
        // Checked when the plan was executed; the target cannot change while it is RESTORING.
        if (!c.newName)
          throw Object.assign(new Error('no free name'), {
            operatorMessage: `no free name for ${c.category} "${c.name}"`,
          });
        await tx.execute(
          sql`update ${t} set ${name} = ${c.newName} where service_id = ${stagingId} and ${name} = ${c.name}`,
        );
        counts.renamed++;
      }
    const moved = await rowsOf(
      tx,
      sql`update ${t} set service_id = ${targetId}, updated_at = now() where service_id = ${stagingId} returning id`,
    );
    counts.moved += moved.length;
  }
  assertWithinLimits(plan.edition, plan.scaleUnits, await countUsage(tx, targetId));
  return counts;
}

/** The checks a merge plan adds: what happens, and one per collision (computed again when it is executed). */
export async function mergeChecks(
  db: Db,
  target: { id: string; name: string; state: string },
  itemNames: Partial<Record<Category, string[]>>,
  policy: CollisionPolicy,
): Promise<RestoreCheck[]> {
  const collisions = await findCollisions(db, target.id, itemNames, policy);
  return [
    {
      code: 'MERGE_INTO_EXISTING',
      severity: 'INFO',
      message: `The selection is restored into the existing service "${target.name}": first into a staging service, then moved in one transaction (${policy} on a name the service already has). "${target.name}" is RESTORING meanwhile and then returns to ${target.state}; if the restore fails nothing in it changes`,
    },
    ...collisionChecks(collisions, target.name, policy),
  ];
}
