import { readFileSync } from 'node:fs';
import { Kind, parse, validate } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { renewApiToken } from '../src/auth/service.js';
import { seedDemo } from '../src/demo.js';
import { schema } from '../src/graphql/schema.js';
import { collect, useTestServer } from './helpers/server.js';
import { until } from './helpers/wait.js';

// The README's walkthrough, run exactly as written: its blocks as they are, each operation chosen by
// its name (as GraphiQL's run button does), with the variables the README gives, against the demo.
const readme = readFileSync('README.md', 'utf8');
const walkthrough = readme.slice(readme.indexOf('## Walkthrough with the demo'), readme.indexOf('## API conventions'));
const blocks = [...walkthrough.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
/** The README's Variables, in order; each `<…>` stands for an id an earlier operation returned. */
const variables = [...walkthrough.matchAll(/Variables: `(\{.*?\})`/g)].map((m) => JSON.parse(m[1]!));
const blockOf = (operation: string) => blocks.find((b) => new RegExp(`\\b${operation}\\b[({ ]`).test(b))!;
const fill = (index: number, id: string) =>
  Object.fromEntries(
    Object.entries(variables[index]!).map(([name, value]) => [name, /^<.*>$/.test(value as string) ? id : value]),
  );

const file = useTestServer();
let token: string;

/** Runs one operation of a README block, as GraphiQL sends it. */
async function run(operation: string, vars: Record<string, unknown> = {}) {
  const response = await fetch(file.server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: blockOf(operation), operationName: operation, variables: vars }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data;
}

beforeAll(async () => {
  token = await renewApiToken(file.server.app.runtime, 'demo-admin-', 'ADMIN');
  await seedDemo(file.server.app, token);
}, 120_000);

describe("the README's walkthrough", () => {
  it('has only named operations, valid against the schema, and a Variables line for each step that takes ids', () => {
    expect(blocks.length).toBe(12);
    for (const block of blocks) {
      const document = parse(block);
      expect(validate(schema, document)).toEqual([]);
      for (const definition of document.definitions)
        expect(definition.kind === Kind.OPERATION_DEFINITION && definition.name?.value).toMatch(/^[A-Z]\w+$/);
    }
    expect(variables).toEqual([
      { serviceId: '<the id ContosoId returned>' },
      { backupId: '<the id LegacyBackups returned>' },
      { planId: '<the plan id PlanRestore returned>' },
      { serviceId: '<the id Checklist returned>' },
      { backupId: '<the id ContosoBackupIds returned for Before the Q4 partner onboarding>' },
      { serviceId: '<the id ContosoId returned>' },
      { backupId: '<the id ContosoBackupIds returned for Before the Q4 partner onboarding>' },
      { backupId: '<the id ContosoBackupIds returned for Before the Q4 partner onboarding>' },
      { serviceId: '<the id ContosoId returned>' },
    ]);
  });

  it('runs as written on the demo, from the first query to a locked backup and a safely retried partner', async () => {
    const services = (await run('Services')).services.edges.map((e: any) => e.node);
    expect(services.map((s: any) => [s.name, s.state])).toEqual(
      expect.arrayContaining([
        ['contoso-prod', 'ACTIVE'],
        ['fabrikam-edi', 'ACTIVE'],
        ['northwind-dev', 'ACTIVE'],
        ['legacy-basic', 'DELETED'],
      ]),
    );
    expect(services.find((s: any) => s.name === 'legacy-basic').lastBackup.label).toBe(
      'Last backup before decommissioning',
    );
    const contoso = (await run('ContosoInDepth')).service;
    expect(contoso.settings.acsIssuerKey.isSet).toBe(true);
    expect(contoso.backupSchedule.cron).toBe('0 2 * * *');

    // 3. Back up
    const { id: contosoId } = (await run('ContosoId')).service;
    const backUp = (await run('BackUp', fill(0, contosoId))).createBackup;
    expect(backUp.__typename).toBe('CreateBackupSuccess');
    const backups = await until(
      () => run('ContosoBackups'),
      (d) => d.backups.edges.some((e: any) => e.node.label === 'before onboarding' && e.node.status === 'SUCCEEDED'),
    );
    expect(backups.backups.edges.map((e: any) => [e.node.label, e.node.status])).toContainEqual([
      'before onboarding',
      'SUCCEEDED',
    ]);

    // 4. Plan a restore
    const [legacyBackup] = (await run('LegacyBackups')).backups.edges.map((e: any) => e.node);
    expect(legacyBackup.label).toBe('Last backup before decommissioning');
    const plan = (await run('PlanRestore', fill(1, legacyBackup.id))).createRestorePlan.plan;
    expect(plan.state).toBe('PLANNED');
    expect(plan.checks.map((c: any) => [c.severity, c.code])).toEqual([
      ['INFO', 'TRACKING_DATA_NOT_RESTORED'],
      ['INFO', 'ACS_CREDENTIALS_REVIEW'],
      ['INFO', 'RESTORES_SUSPENDED'],
    ]);

    // 5. Execute it and watch it live
    const feed = collect(file.server.ws(token), blockOf('WatchRestore'), fill(2, plan.id), 1000);
    await feed.ready;
    const executed = (await run('ExecuteRestore', fill(2, plan.id))).executeRestorePlan;
    expect(executed.__typename).toBe('ExecuteRestorePlanSuccess');
    await until(
      async () => feed.events,
      (events) => events.some((e) => e.restoreProgress.state === 'SUSPENDED'),
    );

    // 6. Checklist and resume
    const checklist = (await run('Checklist')).service;
    expect(checklist.state).toBe('SUSPENDED');
    expect(checklist.postRestoreChecklist.map((i: any) => [i.kind, i.status])).toEqual([
      ['REVIEW_ACS_CREDENTIALS', 'OPEN'],
      ['CONFIRM_TARGET_ENVIRONMENT', 'OPEN'],
      ['CONFIGURE_AUTOMATED_BACKUPS', 'OPEN'],
    ]);
    const reviewed = (await run('ReviewAcsCredentials', fill(3, checklist.id))).completeChecklistItem;
    expect(reviewed.__typename).toBe('CompleteChecklistItemSuccess');
    const resumed = (await run('Resume', fill(3, checklist.id))).resumeService;
    expect(resumed).toEqual({
      __typename: 'ResumeServiceSuccess',
      service: { name: 'legacy-restored', state: 'ACTIVE' },
    });

    const events = (await feed.done).map((e) => e.restoreProgress);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect([...new Set(events.map((e) => e.state))]).toEqual(['PLANNED', 'RESTORING', 'SUSPENDED', 'ACTIVE']);
    expect(events.find((e) => e.progress?.category === 'PARTNERS').progress).toEqual({
      category: 'PARTNERS',
      done: 1,
      total: 1,
    });

    // 7. Restore only part of a backup
    const contosoBackups = (await run('ContosoBackupIds')).backups.edges.map((e: any) => e.node);
    expect(contosoBackups.map((b: any) => b.label)).toEqual(['before onboarding', 'Before the Q4 partner onboarding']);
    const q4 = contosoBackups[1].id;
    const partial = (await run('PlanPartialRestore', fill(4, q4))).createRestorePlan;
    expect(partial.__typename).toBe('CreateRestorePlanSuccess');
    expect(partial.plan.state).toBe('PLANNED');
    expect(partial.plan.selection).toEqual([
      { category: 'PARTNERS', names: ['Contoso', 'Fabrikam'], count: 2 },
      { category: 'PROFILES', names: ['Contoso EDI', 'Fabrikam EDI'], count: 2 },
      { category: 'AGREEMENTS', names: ['Fabrikam purchase orders (X12)'], count: 1 },
      { category: 'TRANSFORMS', names: null, count: 1 },
      { category: 'CONTROL_NUMBERS', names: null, count: 1 },
      { category: 'AS2_MIC_VALUES', names: null, count: 0 },
    ]);
    const checks = partial.plan.checks;
    expect(checks.map((c: any) => [c.severity, c.code])).toEqual([
      ['WARNING', 'FTP_SOURCE_CONFLICT'],
      ['WARNING', 'HYBRID_CONNECTIONS_NOT_RESTORED'],
      ['INFO', 'TRACKING_DATA_NOT_RESTORED'],
      ['INFO', 'ACS_CREDENTIALS_REVIEW'],
      ['INFO', 'RESTORES_SUSPENDED'],
      ['INFO', 'PARTIAL_RESTORE'],
      ['INFO', 'SELECTION_DEPENDENCIES_ADDED'],
    ]);
    expect(checks.find((c: any) => c.code === 'PARTIAL_RESTORE').message).toBe(
      'Only the selection is restored: PARTNERS (Contoso, Fabrikam); PROFILES (Contoso EDI, Fabrikam EDI); AGREEMENTS (Fabrikam purchase orders (X12)); TRANSFORMS (all 1); CONTROL_NUMBERS (all 1); AS2_MIC_VALUES (all 0). Not restored: SERVICE_SETTINGS, SSL_CERTIFICATE, CUSTOM_ASSEMBLIES, BRIDGES, CERTIFICATES, PIPELINES, TEMPLATES, X12_MAPPINGS',
    );
    expect(checks.find((c: any) => c.code === 'SELECTION_DEPENDENCIES_ADDED').message).toBe(
      'Added to the selection because what was selected needs them: profile "Contoso EDI" (used by agreement "Fabrikam purchase orders (X12)"), profile "Fabrikam EDI" (used by agreement "Fabrikam purchase orders (X12)"), partner "Contoso" (of profile "Contoso EDI"), partner "Fabrikam" (of profile "Fabrikam EDI")',
    );
    // Executed as in step 5: the new service holds the selection only.
    const executedPartial = (await run('ExecuteRestore', { planId: partial.plan.id })).executeRestorePlan;
    expect(executedPartial.__typename).toBe('ExecuteRestorePlanSuccess');
    const restored = await until(
      () =>
        file.server.gql(`query { service(name: "contoso-edi-only") { state
          agreements { edges { node { name } } } transforms { edges { node { name } } } bridges { edges { node { name } } } } }`),
      (r) => r.data.service?.state === 'SUSPENDED',
      30_000,
    );
    expect(restored.data.service).toEqual({
      state: 'SUSPENDED',
      agreements: { edges: [{ node: { name: 'Fabrikam purchase orders (X12)' } }] },
      transforms: { edges: [{ node: { name: 'X12 850 to Order' } }] },
      bridges: { edges: [] },
    });

    // 7b. A drill: it runs on its cron only, so its schedule is what there is to read back.
    const nextSunday = new Date();
    nextSunday.setUTCHours(3, 0, 0, 0);
    while (nextSunday.getUTCDay() !== 0 || nextSunday.getTime() <= Date.now())
      nextSunday.setUTCDate(nextSunday.getUTCDate() + 1);
    const schedule = { cron: '0 3 * * 0', enabled: true, nextRunAt: nextSunday.toISOString() };
    expect((await run('ScheduleDrill', fill(5, contosoId))).setRestoreDrill).toEqual({
      __typename: 'SetRestoreDrillSuccess',
      schedule,
    });
    expect((await run('ContosoDrills')).service).toEqual({
      restoreDrillSchedule: { ...schedule, lastRunAt: null },
      restoreDrills: { edges: [] },
    });

    // 8. What changed since the Q4 backup: the 3 AS2 messages sent after it
    const { backup } = await run('DiffFromLive', fill(6, q4));
    expect(backup.label).toBe('Before the Q4 partner onboarding');
    expect(backup.diffFromLive.__typename).toBe('BackupDiff');
    expect(backup.diffFromLive.identical).toBe(false);
    const [controlNumbers, mics] = backup.diffFromLive.categories;
    expect(backup.diffFromLive.categories).toHaveLength(2);
    expect(controlNumbers).toEqual({
      category: 'CONTROL_NUMBERS',
      added: [],
      removed: [],
      changed: [{ name: 'Fabrikam shipments (AS2)', fields: ['group', 'interchange', 'transactionSet'] }],
      addedCount: 0,
      removedCount: 0,
      changedCount: 1,
    });
    expect(mics).toMatchObject({ category: 'AS2_MIC_VALUES', removed: [], changed: [], addedCount: 3 });
    expect(mics.added).toHaveLength(3);
    for (const name of mics.added) expect(name).toMatch(/^Fabrikam shipments \(AS2\)\/<[0-9a-f-]{36}@contoso-prod\./);

    // 9. Lock, then retry safely
    expect((await run('LockBackup', fill(7, q4))).lockBackup).toEqual({
      __typename: 'LockBackupSuccess',
      backup: { label: 'Before the Q4 partner onboarding', locked: true, lockedUntil: '2027-06-30T00:00:00.000Z' },
    });
    expect((await run('DeleteLockedBackup', fill(7, q4))).deleteBackup).toEqual({
      __typename: 'BackupLockedError',
      code: 'BACKUP_LOCKED',
      message: 'The backup is locked until 2027-06-30T00:00:00.000Z (legal hold 114); it cannot be deleted before then',
    });
    const first = (await run('OnboardTailspin', fill(8, contosoId))).createPartner;
    expect(first.__typename).toBe('CreatePartnerSuccess');
    expect((await run('OnboardTailspin', fill(8, contosoId))).createPartner).toEqual(first);
    expect((await run('OnboardWingtipWithTheSameKey', fill(8, contosoId))).createPartner).toEqual({
      __typename: 'IdempotencyKeyReusedError',
      code: 'IDEMPOTENCY_KEY_REUSED',
      message:
        'This idempotency key was used in the last 24 hours for a different input (createPartner); use a new key for a new request',
    });
    const partners = await file.server.gql(
      'query { service(name: "contoso-prod") { partners { edges { node { name } } } } }',
    );
    expect(partners.data.service.partners.edges.map((e: any) => e.node.name).sort()).toEqual([
      'Contoso',
      'Fabrikam',
      'Northwind',
      'Tailspin',
    ]);
    const audit = (await run('RecentAudit')).auditLog.edges.map((e: any) => [e.node.operation, e.node.outcome]);
    expect(audit).toEqual([
      ['createPartner', 'IDEMPOTENCY_KEY_REUSED'],
      ['createPartner', 'REPLAYED'],
      ['createPartner', 'SUCCEEDED'],
      ['deleteBackup', 'BACKUP_LOCKED'],
      ['lockBackup', 'SUCCEEDED'],
      ['setRestoreDrill', 'SUCCEEDED'],
    ]);
  }, 90_000);
});
