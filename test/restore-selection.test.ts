import { describe, expect, it } from 'vitest';
import { buildService, succeededBackup } from './helpers/artifacts.js';
import { useTestServer } from './helpers/server.js';
import { until } from './helpers/wait.js';

const file = useTestServer();
const gql = (q: string, v?: Record<string, unknown>) => file.server.gql(q, v);

const CREATE_PLAN = `mutation ($input: CreateRestorePlanInput!) { createRestorePlan(input: $input) {
  __typename
  ... on CreateRestorePlanSuccess { plan { id checks { code severity message } selection { category names count } } }
  ... on Error { code message }
} }`;
const EXECUTE =
  'mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename ... on Error { code message } } }';

/** What a restored service holds, by name. */
async function holdings(name: string) {
  const { data } = await gql(
    `query ($n: String!) { service(name: $n) { state settings { acsNamespace }
      partners { edges { node { name } } } profiles: partners { edges { node { profiles { edges { node { name } } } } } }
      agreements { edges { node { name controlNumbers { interchange } hostProfile { name } } } }
      bridges { edges { node { name } } } transforms { edges { node { name } } } templates { edges { node { name } } }
    } }`,
    { n: name },
  );
  const names = (c: { edges: { node: { name: string } }[] }) => c.edges.map((e) => e.node.name).sort();
  const s = data.service;
  return {
    state: s.state,
    acsNamespace: s.settings.acsNamespace,
    partners: names(s.partners),
    profiles: s.profiles.edges.flatMap((e: any) => names(e.node.profiles)).sort(),
    agreements: s.agreements.edges.map((e: any) => `${e.node.name} #${e.node.controlNumbers.interchange}`).sort(),
    bridges: names(s.bridges),
    transforms: names(s.transforms),
    templates: names(s.templates),
  };
}

async function restore(input: Record<string, unknown>) {
  const created = (await gql(CREATE_PLAN, { input })).data.createRestorePlan;
  if (!created.plan) return created;
  const executed = (await gql(EXECUTE, { id: created.plan.id })).data.executeRestorePlan;
  expect(executed.__typename).toBe('ExecuteRestorePlanSuccess');
  await until(
    () => gql('query ($id: ID!) { restorePlan(id: $id) { state } }', { id: created.plan.id }),
    (r) => r.data.restorePlan.state === 'SUSPENDED',
  );
  return created;
}

describe('selective restore', () => {
  it('restores one named agreement with the profiles and partners it needs, and says it added them', async () => {
    const built = await buildService(gql, 'select-source');
    await gql(
      'mutation ($s: ID!) { updateServiceSettings(input: { serviceId: $s, acsNamespace: "contoso" }) { __typename } }',
      {
        s: built.serviceId,
      },
    );
    const backupId = await succeededBackup(gql, built.serviceId);
    const created = await restore({
      backupId,
      targetName: 'select-agreement',
      selection: [{ category: 'AGREEMENTS', names: ['Contoso-Fabrikam EDIFACT'] }, { category: 'TRANSFORMS' }],
    });
    expect(created.plan.selection).toEqual([
      { category: 'PARTNERS', names: ['Contoso', 'Fabrikam'], count: 2 },
      { category: 'PROFILES', names: ['Contoso EDI', 'Fabrikam EDI'], count: 2 },
      { category: 'AGREEMENTS', names: ['Contoso-Fabrikam EDIFACT'], count: 1 },
      { category: 'TRANSFORMS', names: null, count: 1 },
      { category: 'CONTROL_NUMBERS', names: null, count: 1 },
      { category: 'AS2_MIC_VALUES', names: null, count: 0 },
    ]);
    const info = created.plan.checks.filter((c: { code: string }) =>
      ['PARTIAL_RESTORE', 'SELECTION_DEPENDENCIES_ADDED'].includes(c.code),
    );
    expect(info).toEqual([
      {
        code: 'PARTIAL_RESTORE',
        severity: 'INFO',
        message:
          'Only the selection is restored: PARTNERS (Contoso, Fabrikam); PROFILES (Contoso EDI, Fabrikam EDI); AGREEMENTS (Contoso-Fabrikam EDIFACT); TRANSFORMS (all 1); CONTROL_NUMBERS (all 1); AS2_MIC_VALUES (all 0). Not restored: SERVICE_SETTINGS, CUSTOM_ASSEMBLIES, BRIDGES, CERTIFICATES, PIPELINES, TEMPLATES, X12_MAPPINGS',
      },
      {
        code: 'SELECTION_DEPENDENCIES_ADDED',
        severity: 'INFO',
        message:
          'Added to the selection because what was selected needs them: profile "Contoso EDI" (used by agreement "Contoso-Fabrikam EDIFACT"), profile "Fabrikam EDI" (used by agreement "Contoso-Fabrikam EDIFACT"), partner "Contoso" (of profile "Contoso EDI"), partner "Fabrikam" (of profile "Fabrikam EDI")',
      },
    ]);
    // Checks look at the restored agreements only: the X12 one, left out, shares its FTP folder with the source.
    const codes = (plan: { checks: { code: string }[] }) => plan.checks.map((c) => c.code);
    expect(codes(created.plan)).not.toContain('FTP_SOURCE_CONFLICT');
    const x12 = (
      await gql(CREATE_PLAN, {
        input: {
          backupId,
          targetName: 'select-x12',
          selection: [{ category: 'AGREEMENTS', names: ['Contoso-Fabrikam X12'] }],
        },
      })
    ).data.createRestorePlan.plan;
    expect(codes(x12)).toContain('FTP_SOURCE_CONFLICT');
    expect(await holdings('select-agreement')).toEqual({
      state: 'SUSPENDED',
      acsNamespace: null,
      partners: ['Contoso', 'Fabrikam'],
      profiles: ['Contoso EDI', 'Fabrikam EDI'],
      agreements: ['Contoso-Fabrikam EDIFACT #0'],
      bridges: [],
      transforms: ['PO to Order'],
      templates: [],
    });
  });

  it('restores whole categories only, settings included when selected', async () => {
    const built = await buildService(gql, 'select-whole');
    await gql(
      'mutation ($s: ID!) { updateServiceSettings(input: { serviceId: $s, acsNamespace: "fabrikam" }) { __typename } }',
      {
        s: built.serviceId,
      },
    );
    const backupId = await succeededBackup(gql, built.serviceId);
    await restore({
      backupId,
      targetName: 'select-whole-bridges',
      selection: [
        { category: 'SERVICE_SETTINGS' },
        { category: 'BRIDGES' },
        { category: 'TEMPLATES', names: ['X12 partner'] },
      ],
    });
    expect(await holdings('select-whole-bridges')).toEqual({
      state: 'SUSPENDED',
      acsNamespace: 'fabrikam',
      partners: [],
      profiles: [],
      agreements: [],
      bridges: ['OrdersBridge'],
      transforms: [],
      templates: ['X12 partner'],
    });
  });

  it('refuses a selection naming what the backup does not hold, or selecting control numbers alone', async () => {
    const built = await buildService(gql, 'select-refused');
    const backupId = await succeededBackup(gql, built.serviceId);
    const missing = (
      await gql(CREATE_PLAN, {
        input: {
          backupId,
          targetName: 'select-missing',
          selection: [{ category: 'BRIDGES', names: ['OrdersBridge', 'Nope'] }],
        },
      })
    ).data.createRestorePlan;
    expect(missing).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      message: 'input.selection: not in this backup: BRIDGES "Nope"',
    });
    const alone = (
      await gql(CREATE_PLAN, {
        input: { backupId, targetName: 'select-alone', selection: [{ category: 'CONTROL_NUMBERS' }] },
      })
    ).data.createRestorePlan;
    expect(alone.message).toBe(
      'input.selection.0.category: is restored with its agreements: select AGREEMENTS instead',
    );
    const none = (await gql(CREATE_PLAN, { input: { backupId, targetName: 'select-none', selection: [] } })).data
      .createRestorePlan;
    expect(none.message).toBe('input.selection: must name at least one category');
  });
});
