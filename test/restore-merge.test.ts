import { describe, expect, it } from 'vitest';
import { buildService, createService, mutate, succeededBackup } from './helpers/artifacts.js';
import { useTestServer } from './helpers/server.js';
import { until } from './helpers/wait.js';

const file = useTestServer();
const gql = (q: string, v?: Record<string, unknown>) => file.server.gql(q, v);

const CREATE_PLAN = `mutation ($input: CreateRestorePlanInput!) { createRestorePlan(input: $input) {
  __typename
  ... on CreateRestorePlanSuccess { plan { id targetName onCollision targetService { name } checks { code severity message } } }
  ... on Error { code message }
  ... on ValidationError { fields { path message } }
} }`;
const EXECUTE =
  'mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename ... on Error { code message } } }';
const PLAN = 'query ($id: ID!) { restorePlan(id: $id) { state service { name } history { state message } } }';

/** The selection every merge here restores: one agreement (with its profiles and partners) and the transforms. */
const SELECTION = [{ category: 'AGREEMENTS', names: ['Contoso-Fabrikam EDIFACT'] }, { category: 'TRANSFORMS' }];

/** What a service holds, by name (a profile with its partner and identity; an agreement with its host profile). */
async function holdings(name: string) {
  const { data } = await gql(
    `query ($n: String!) { service(name: $n) { state
      partners { edges { node { name profiles { edges { node { id name identifier } } } } } }
      agreements { edges { node { name controlNumbers { interchange } hostProfile { name identifier partner { name } } } } }
      transforms { edges { node { name mapContent } } }
    } }`,
    { n: name },
  );
  const s = data.service;
  const nodes = (c: { edges: { node: any }[] }) => c.edges.map((e) => e.node);
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  return {
    state: s.state,
    partners: nodes(s.partners)
      .map((p) => p.name)
      .sort(),
    profiles: nodes(s.partners)
      .flatMap((p) =>
        nodes(p.profiles).map((f) => ({ partner: p.name, name: f.name, identifier: f.identifier, id: f.id })),
      )
      .sort(byName),
    agreements: nodes(s.agreements)
      .map((a) => ({
        name: a.name,
        host: `${a.hostProfile.name} (${a.hostProfile.identifier}, partner ${a.hostProfile.partner.name})`,
      }))
      .sort(byName),
    transforms: nodes(s.transforms)
      .map((t) => ({ name: t.name, mapContent: t.mapContent }))
      .sort(byName),
  };
}

let source: Promise<string> | undefined;
/** One backup of a realistic service, shared by the tests. */
const backup = () => {
  source ??= buildService(gql, 'merge-source').then((built) => succeededBackup(gql, built.serviceId));
  return source;
};

/** A STOPPED service that already has partner Contoso, profile "Contoso EDI" (ZZ/`identifier`) and transform "PO to Order". */
async function target(
  name: string,
  identifier = 'CONTOSO-T',
  state: 'stopService' | 'suspendService' | null = 'stopService',
) {
  const serviceId = await createService(gql, name);
  const partner = (await mutate(gql, 'createPartner', { serviceId, name: 'Contoso' })).id;
  await mutate(gql, 'createProfile', { partnerId: partner, name: 'Contoso EDI', qualifier: 'ZZ', identifier });
  await mutate(gql, 'createTransform', { serviceId, name: 'PO to Order', mapContent: '<old/>' });
  if (state) await gql(`mutation ($s: ID!) { ${state}(input: { serviceId: $s }) { __typename } }`, { s: serviceId });
  return serviceId;
}

async function merge(targetServiceId: string, onCollision: string) {
  const created = (
    await gql(CREATE_PLAN, { input: { backupId: await backup(), targetServiceId, onCollision, selection: SELECTION } })
  ).data.createRestorePlan;
  expect(created.__typename).toBe('CreateRestorePlanSuccess');
  const executed = (await gql(EXECUTE, { id: created.plan.id })).data.executeRestorePlan;
  expect(executed.__typename).toBe('ExecuteRestorePlanSuccess');
  const done = await until(
    () => gql(PLAN, { id: created.plan.id }),
    (r) => ['ACTIVE', 'FAILED'].includes(r.data.restorePlan.state),
  );
  return { created, done: done.data.restorePlan };
}

const collisions = (checks: { code: string }[]) => checks.filter((c) => c.code === 'NAME_COLLISION');
const edifact = (host: string) => ({ name: 'Contoso-Fabrikam EDIFACT', host });
const fabrikamEdi = { partner: 'Fabrikam', name: 'Fabrikam EDI', identifier: 'FABRIKAM' };

describe('merging a selection into an existing service', () => {
  it('SKIP keeps the target’s items, and the restored agreement uses the target’s profile', async () => {
    const id = await target('merge-skip');
    const before = await holdings('merge-skip');
    const { created, done } = await merge(id, 'SKIP');
    expect(created.plan).toMatchObject({
      targetName: 'merge-skip',
      onCollision: 'SKIP',
      targetService: { name: 'merge-skip' },
    });
    expect(collisions(created.plan.checks)).toEqual([
      {
        code: 'NAME_COLLISION',
        severity: 'INFO',
        message:
          'PARTNERS "Contoso" is also in "merge-skip": skipped, the target\'s is kept (restored items that use it will use the target\'s)',
      },
      {
        code: 'NAME_COLLISION',
        severity: 'INFO',
        message:
          'PROFILES "Contoso EDI" is also in "merge-skip": skipped, the target\'s is kept (restored items that use it will use the target\'s)',
      },
      {
        code: 'NAME_COLLISION',
        severity: 'INFO',
        message:
          'TRANSFORMS "PO to Order" is also in "merge-skip": skipped, the target\'s is kept (restored items that use it will use the target\'s)',
      },
    ]);
    expect(done.state).toBe('ACTIVE');
    expect(done.service).toBeNull();
    expect(done.history.at(-1).message).toBe(
      'Merged into "merge-skip": 3 item(s) added, 0 replaced, 0 renamed, 3 skipped; "merge-skip" is STOPPED again',
    );
    const after = await holdings('merge-skip');
    expect(after).toEqual({
      state: 'STOPPED',
      partners: ['Contoso', 'Fabrikam'],
      profiles: [before.profiles[0], { ...fabrikamEdi, id: after.profiles[1]!.id }],
      agreements: [edifact('Contoso EDI (CONTOSO-T, partner Contoso)')],
      transforms: [{ name: 'PO to Order', mapContent: '<old/>' }],
    });
    // The staging service (merge-<plan id>) is gone.
    const services = (await gql('{ services(first: 100) { edges { node { name } } } }')).data.services.edges;
    expect(services.filter((e: any) => /^merge-[0-9a-f-]{36}$/.test(e.node.name))).toEqual([]);
  });

  it('REPLACE gives the target’s items the backup’s content and keeps their identity', async () => {
    const id = await target('merge-replace', 'CONTOSO-T', 'suspendService');
    const before = await holdings('merge-replace');
    const { created, done } = await merge(id, 'REPLACE');
    expect(collisions(created.plan.checks).map((c: any) => [c.severity, c.message])).toEqual([
      [
        'WARNING',
        'PARTNERS "Contoso" is also in "merge-replace": replaced by the backup\'s (what uses the target\'s keeps using it, with the backup\'s content)',
      ],
      [
        'WARNING',
        'PROFILES "Contoso EDI" is also in "merge-replace": replaced by the backup\'s (what uses the target\'s keeps using it, with the backup\'s content)',
      ],
      [
        'WARNING',
        'TRANSFORMS "PO to Order" is also in "merge-replace": replaced by the backup\'s (what uses the target\'s keeps using it, with the backup\'s content)',
      ],
    ]);
    expect(done.state).toBe('ACTIVE');
    const after = await holdings('merge-replace');
    expect(after).toEqual({
      state: 'SUSPENDED',
      partners: ['Contoso', 'Fabrikam'],
      profiles: [
        { partner: 'Contoso', name: 'Contoso EDI', identifier: 'CONTOSO', id: before.profiles[0]!.id },
        { ...fabrikamEdi, id: after.profiles[1]!.id },
      ],
      agreements: [edifact('Contoso EDI (CONTOSO, partner Contoso)')],
      transforms: [{ name: 'PO to Order', mapContent: '<xsl:stylesheet/>' }],
    });
  });

  it('RENAME restores colliding items as <name>-restored-<n>, and what uses them follows', async () => {
    const id = await target('merge-rename');
    const { created, done } = await merge(id, 'RENAME');
    expect(collisions(created.plan.checks).map((c: any) => [c.severity, c.message])).toEqual([
      ['INFO', 'PARTNERS "Contoso" is also in "merge-rename": restored as "Contoso-restored-1"'],
      ['INFO', 'PROFILES "Contoso EDI" is also in "merge-rename": restored as "Contoso EDI-restored-1"'],
      ['INFO', 'TRANSFORMS "PO to Order" is also in "merge-rename": restored as "PO to Order-restored-1"'],
    ]);
    expect(done.state).toBe('ACTIVE');
    const after = await holdings('merge-rename');
    expect({ ...after, profiles: after.profiles.map(({ id: _, ...p }) => p) }).toEqual({
      state: 'STOPPED',
      partners: ['Contoso', 'Contoso-restored-1', 'Fabrikam'],
      profiles: [
        { partner: 'Contoso', name: 'Contoso EDI', identifier: 'CONTOSO-T' },
        { partner: 'Contoso-restored-1', name: 'Contoso EDI-restored-1', identifier: 'CONTOSO' },
        fabrikamEdi,
      ],
      agreements: [edifact('Contoso EDI-restored-1 (CONTOSO, partner Contoso-restored-1)')],
      transforms: [
        { name: 'PO to Order', mapContent: '<old/>' },
        { name: 'PO to Order-restored-1', mapContent: '<xsl:stylesheet/>' },
      ],
    });
  });

  it('blocks RENAME of an X12 mapping, which is named by its ST01 code', async () => {
    const serviceId = await target('merge-x12');
    await gql('mutation ($s: ID!) { startService(input: { serviceId: $s }) { __typename } }', { s: serviceId });
    await mutate(gql, 'createX12Mapping', { serviceId, st01: '850', gs01: 'PO' });
    await gql('mutation ($s: ID!) { stopService(input: { serviceId: $s }) { __typename } }', { s: serviceId });
    const input = {
      backupId: await backup(),
      targetServiceId: serviceId,
      onCollision: 'RENAME',
      selection: [{ category: 'X12_MAPPINGS' }],
    };
    const created = (await gql(CREATE_PLAN, { input })).data.createRestorePlan;
    expect(collisions(created.plan.checks)).toEqual([
      {
        code: 'NAME_COLLISION',
        severity: 'BLOCKER',
        message:
          'X12_MAPPINGS "850" is also in "merge-x12" and cannot be renamed (an X12 mapping is named by its ST01 code); choose SKIP or REPLACE',
      },
    ]);
    // The plan shows how the target differs from the backup.
    const diff = await gql(
      'query ($id: ID!) { restorePlan(id: $id) { targetDiff { __typename ... on BackupDiff { identical categories { category added removed } } } } }',
      { id: created.plan.id },
    );
    const { __typename, identical, categories } = diff.data.restorePlan.targetDiff;
    expect({ __typename, identical }).toEqual({ __typename: 'BackupDiff', identical: false });
    expect(categories.filter((c: { category: string }) => ['PARTNERS', 'TRANSFORMS'].includes(c.category))).toEqual([
      { category: 'PARTNERS', added: [], removed: ['Fabrikam'] },
      { category: 'TRANSFORMS', added: [], removed: [] },
    ]);
    const executed = (await gql(EXECUTE, { id: created.plan.id })).data.executeRestorePlan;
    expect(executed.code).toBe('PLAN_BLOCKED');
  });

  it('refuses an ACTIVE target, and service settings in a merge', async () => {
    const id = await target('merge-active', 'CONTOSO-T', null);
    const refused = (
      await gql(CREATE_PLAN, { input: { backupId: await backup(), targetServiceId: id, selection: SELECTION } })
    ).data.createRestorePlan;
    expect(refused).toEqual({
      __typename: 'InvalidStateError',
      code: 'INVALID_STATE',
      message:
        'Service "merge-active" is ACTIVE; a restore can be merged only into a SUSPENDED or STOPPED service (stop or suspend it first)',
    });
    await gql('mutation ($s: ID!) { stopService(input: { serviceId: $s }) { __typename } }', { s: id });
    const settings = (
      await gql(CREATE_PLAN, {
        input: { backupId: await backup(), targetServiceId: id, selection: [{ category: 'SERVICE_SETTINGS' }] },
      })
    ).data.createRestorePlan;
    expect(settings.fields).toEqual([
      {
        path: ['input', 'selection', '0', 'category'],
        message:
          "cannot be merged into an existing service (it would overwrite the service's own); restore it into a new service",
      },
    ]);
  });

  it('a merge that fails in its transaction leaves the target exactly as it was', async () => {
    // The renamed profile keeps the backup's identity ZZ/CONTOSO, which the target's own profile has.
    const id = await target('merge-fails', 'CONTOSO');
    const before = await holdings('merge-fails');
    const { done } = await merge(id, 'RENAME');
    expect(done.state).toBe('FAILED');
    expect(done.history.at(-1).message).toBe(
      'Merge failed: a restored item has the same key as one of "merge-fails" (profiles_service_identity_key). Nothing in "merge-fails" changed; it is STOPPED again',
    );
    expect(await holdings('merge-fails')).toEqual(before);
  });

  it('takes an idempotencyKey on plan creation: a retry returns the first plan', async () => {
    const id = await target('merge-idempotent');
    const input = {
      backupId: await backup(),
      targetServiceId: id,
      selection: SELECTION,
      idempotencyKey: 'merge-plan-1',
    };
    const first = (await gql(CREATE_PLAN, { input })).data.createRestorePlan;
    const again = (await gql(CREATE_PLAN, { input })).data.createRestorePlan;
    expect(again.plan.id).toBe(first.plan.id);
    const other = (await gql(CREATE_PLAN, { input: { ...input, onCollision: 'RENAME' } })).data.createRestorePlan;
    expect(other.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});
