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
    expect(blocks.length).toBe(7);
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
    ]);
  });

  it('runs as written on the demo, from the first query to the restored service ACTIVE', async () => {
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
  }, 90_000);
});
