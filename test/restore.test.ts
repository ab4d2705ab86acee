import { damageChunk } from './helpers/stored-backups.js';
import { describe, expect, it } from 'vitest';
import { buildService, createService, mutate, serviceContents } from './helpers/artifacts.js';
import { lifecycle, rawId } from './helpers/operations.js';
import { appendEvent } from '../src/restore/history.js';
import { ADMIN_TOKEN } from './helpers/credentials.js';
import { collect, useTestServer } from './helpers/server.js';
import { until } from './helpers/wait.js';

const MARKER = 'MARKER-restore-s3cr3t-55';
const file = useTestServer({ NAME_HOLD_SECONDS: '2' });
const gql = (q: string, v?: Record<string, unknown>) => file.server.gql(q, v);

const PROCESS =
  'mutation ($id: ID!, $p: String) { processEdiMessage(input: { agreementId: $id, payload: $p }) { __typename } }';
const PLAN_FIELDS =
  'id state targetName targetEdition targetRegion controlNumberPolicy failureReason checks { code severity message } service { id name state }';
const CREATE_PLAN = `mutation ($input: CreateRestorePlanInput!) { createRestorePlan(input: $input) { __typename ... on CreateRestorePlanSuccess { plan { ${PLAN_FIELDS} } } ... on Error { code message } } }`;
const EXECUTE = `mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename ... on ExecuteRestorePlanSuccess { plan { ${PLAN_FIELDS} } } ... on Error { code message } ... on PlanBlockedError { blockers { code } } } }`;
const PROGRESS =
  'subscription ($id: ID!) { restoreProgress(planId: $id) { sequence state previousState message progress { category done total } } }';
const STATE_CHANGED = 'subscription { serviceStateChanged { previousState state service { name } } }';
const RESUME =
  'mutation ($id: ID!, $force: Boolean) { resumeService(input: { serviceId: $id, force: $force }) { __typename ... on ResumeServiceSuccess { service { state } } ... on Error { code message } ... on ChecklistIncompleteError { openItems { kind } } } }';

async function backupOf(serviceId: string, extra: Record<string, unknown> = {}) {
  const created = (
    await gql(
      'mutation ($input: CreateBackupInput!) { createBackup(input: $input) { ... on CreateBackupSuccess { backup { id } } ... on Error { code message } } }',
      { input: { serviceId, ...extra } },
    )
  ).data.createBackup;
  const id = created.backup.id;
  await until(
    () => gql('query ($id: ID!) { backup(id: $id) { status } }', { id }),
    (r) => r.data.backup.status === 'SUCCEEDED',
  );
  return id as string;
}

const plan = async (input: Record<string, unknown>) => (await gql(CREATE_PLAN, { input })).data.createRestorePlan;
const planState = (id: string) =>
  gql(`query ($id: ID!) { restorePlan(id: $id) { ${PLAN_FIELDS} history { sequence state } } }`, { id });
const codes = (p: any) => p.checks.map((c: any) => `${c.severity}:${c.code}`);

const contents = (serviceId: string) => serviceContents(gql, serviceId);

/** Changes one byte of a backup's stored chunks, as a fault of the storage would. */
async function damage(backupId: string) {
  await damageChunk(file.server.app.runtime, backupId);
}

/** The next `count` state changes of any service, watched once no other restore is still running. */
async function watchServiceStates(count: number) {
  await until(
    async () => file.server.app.runtime.background.size,
    (n) => n === 0,
  );
  const sub = collect(file.server.ws(), STATE_CHANGED, {}, count);
  await sub.ready;
  return sub;
}

describe('the operator journey', () => {
  it('plans, executes and watches a restore from Suspended to Active, with every check and the checklist', async () => {
    // Configure, traffic, batch guard, backup, more traffic.
    const source = await buildService(gql, 'journey-source');
    await gql(
      'mutation ($input: UpdateServiceSettingsInput!) { updateServiceSettings(input: $input) { __typename } }',
      {
        input: {
          serviceId: source.serviceId,
          acsNamespace: 'contoso',
          acsIssuerKey: `${MARKER}-acs`,
          trackingDatabaseConnectionString: `Password=${MARKER}`,
          sslCertificate: { pfxBase64: Buffer.from('pfx').toString('base64'), password: MARKER },
        },
      },
    );
    for (let i = 0; i < 3; i++) await gql(PROCESS, { id: source.agreements.as2, p: `as2-${i}` });
    await gql(PROCESS, { id: source.agreements.x12, p: 'batched' });
    const guarded = await gql(
      'mutation ($id: ID!) { createBackup(input: { serviceId: $id }) { __typename ... on Error { code } } }',
      { id: source.serviceId },
    );
    expect(guarded.data.createBackup).toEqual({
      __typename: 'ActiveBatchMessagesError',
      code: 'ACTIVE_BATCH_MESSAGES',
    });
    await gql('mutation ($id: ID!) { releaseBatch(input: { agreementId: $id }) { __typename } }', {
      id: source.agreements.x12,
    });
    const backupId = await backupOf(source.serviceId, { label: 'journey' });
    const before = await contents(source.serviceId);
    for (let i = 0; i < 2; i++) await gql(PROCESS, { id: source.agreements.edifact, p: `after-${i}` });

    // Plan: every check, with what to do.
    const planned = await plan({ backupId, targetName: 'journey-copy', targetRegion: 'northeurope' });
    expect(planned.__typename).toBe('CreateRestorePlanSuccess');
    const p = planned.plan;
    expect(p).toMatchObject({
      state: 'PLANNED',
      targetName: 'journey-copy',
      targetEdition: 'STANDARD',
      targetRegion: 'northeurope',
      controlNumberPolicy: 'ADVANCE_PAST_ISSUED',
      service: null,
    });
    expect(codes(p)).toEqual([
      'WARNING:CONTROL_NUMBER_DRIFT',
      'WARNING:FTP_SOURCE_CONFLICT',
      'WARNING:HYBRID_CONNECTIONS_NOT_RESTORED',
      'INFO:TRACKING_DATA_NOT_RESTORED',
      'INFO:ACS_CREDENTIALS_REVIEW',
      'INFO:RESTORES_SUSPENDED',
    ]);
    const message = (code: string) => p.checks.find((c: any) => c.code === code).message;
    expect(message('CONTROL_NUMBER_DRIFT')).toBe(
      'Control numbers were issued after this backup on 1 agreement(s): "Contoso-Fabrikam EDIFACT" (2 interchange(s)); with ADVANCE_PAST_ISSUED the restored agreements continue past every number issued, so none is sent twice',
    );
    expect(message('FTP_SOURCE_CONFLICT')).toBe(
      'Agreement "Contoso-Fabrikam X12" pulls from ftp://ftp.fabrikam.com/journey-source/x12, as does agreement "Contoso-Fabrikam X12" of service "journey-source": two agreements would steal each other\'s messages. Change the restored agreement\'s sourceFtpFolder before resuming',
    );
    expect(message('HYBRID_CONNECTIONS_NOT_RESTORED')).toBe(
      'Hybrid connections are never backed up; recreate them after the restore: onprem-sql',
    );
    expect(message('TRACKING_DATA_NOT_RESTORED')).toContain(
      '"journey-source", which still exists: both will share that tracking database',
    );

    // Execute and watch: the subscription sees every transition in order.
    const progress = collect(file.server.ws(), PROGRESS, { id: p.id }, 1000);
    const executed = (await gql(EXECUTE, { id: p.id })).data.executeRestorePlan;
    expect(executed.plan).toMatchObject({ state: 'RESTORING', service: { name: 'journey-copy', state: 'RESTORING' } });
    const restored = (
      await until(
        () => planState(p.id),
        (r) => r.data.restorePlan.state === 'SUSPENDED',
      )
    ).data.restorePlan;
    expect(restored.service).toMatchObject({ name: 'journey-copy', state: 'SUSPENDED' });
    const serviceId = restored.service.id;

    // Checklist: the FTP conflict blocks resuming until the folder changes.
    const list = async () =>
      (
        await gql(
          'query ($id: ID!) { node(id: $id) { ... on Service { postRestoreChecklist { kind status } restoredFrom { id } } } }',
          { id: serviceId },
        )
      ).data.node;
    expect(await list()).toEqual({
      restoredFrom: { id: p.id },
      postRestoreChecklist: [
        { kind: 'REVIEW_ACS_CREDENTIALS', status: 'OPEN' },
        { kind: 'RESOLVE_FTP_SOURCE_CONFLICT', status: 'OPEN' },
        { kind: 'CONFIRM_TARGET_ENVIRONMENT', status: 'OPEN' },
        { kind: 'CONFIGURE_AUTOMATED_BACKUPS', status: 'OPEN' },
      ],
    });
    expect((await gql(RESUME, { id: serviceId })).data.resumeService).toMatchObject({
      __typename: 'ChecklistIncompleteError',
      code: 'CHECKLIST_INCOMPLETE',
      openItems: [{ kind: 'RESOLVE_FTP_SOURCE_CONFLICT' }],
    });
    const copyAgreements = (
      await gql('query ($id: ID!) { node(id: $id) { ... on Service { agreements { edges { node { id name } } } } } }', {
        id: serviceId,
      })
    ).data.node.agreements.edges.map((e: any) => e.node);
    const copyX12 = copyAgreements.find((a: any) => a.name === 'Contoso-Fabrikam X12').id;
    await mutate(gql, 'updateAgreement', {
      agreementId: copyX12,
      sourceFtpFolder: 'ftp://ftp.fabrikam.com/journey-copy/x12',
    });
    await gql(
      'mutation ($id: ID!) { completeChecklistItem(input: { serviceId: $id, kind: REVIEW_ACS_CREDENTIALS }) { __typename } }',
      { id: serviceId },
    );
    await gql(
      'mutation ($id: ID!) { setBackupSchedule(input: { serviceId: $id, cron: "0 2 * * *" }) { __typename } }',
      { id: serviceId },
    );
    expect((await list()).postRestoreChecklist.map((i: any) => i.status)).toEqual(['DONE', 'DONE', 'OPEN', 'DONE']);
    expect((await gql(RESUME, { id: serviceId })).data.resumeService).toEqual({
      __typename: 'ResumeServiceSuccess',
      service: { state: 'ACTIVE' },
    });

    const events = (await progress.done).map((e) => e.restoreProgress);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    const transitions = events.filter((e) => e.state !== e.previousState).map((e) => `${e.previousState}->${e.state}`);
    expect(transitions).toEqual(['null->PLANNED', 'PLANNED->RESTORING', 'RESTORING->SUSPENDED', 'SUSPENDED->ACTIVE']);
    expect(events.filter((e) => e.progress).map((e) => e.progress.category)).toEqual([
      'SERVICE_SETTINGS',
      'SSL_CERTIFICATE',
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
      'CONTROL_NUMBERS',
      'AS2_MIC_VALUES',
    ]);
    expect(events.find((e) => e.progress?.category === 'PROFILES').progress).toEqual({
      category: 'PROFILES',
      done: 2,
      total: 2,
    });
    expect((await planState(p.id)).data.restorePlan.state).toBe('ACTIVE');

    // Restored contents equal the backup's; secrets restored (same fingerprints) but never shown.
    const after = await contents(serviceId);
    const withoutFolder = (c: any) =>
      JSON.parse(JSON.stringify(c).replaceAll('journey-copy/x12', 'journey-source/x12'));
    const { edition, ...same } = withoutFolder(after);
    const { edition: sourceEdition, ...expected } = before;
    expect(edition).toBe(sourceEdition);
    expect({ ...same, hybridConnections: expected.hybridConnections }).toEqual({
      ...expected,
      agreements: same.agreements,
    });
    // Control numbers: continued past what was issued after the backup (ADVANCE_PAST_ISSUED); lineage kept.
    const byName = (c: any, name: string) => c.agreements.edges.find((e: any) => e.node.name === name).node;
    expect(byName(after, 'Contoso-Fabrikam EDIFACT').controlNumbers).toEqual({
      interchange: 2,
      group: 2,
      transactionSet: 2,
    });
    expect(byName(after, 'Contoso-Fabrikam EDIFACT').lineageId).toBe(
      byName(before, 'Contoso-Fabrikam EDIFACT').lineageId,
    );
    expect(byName(after, 'Contoso-Fabrikam AS2')).toEqual(byName(before, 'Contoso-Fabrikam AS2'));
    expect(after.hybridConnections.totalCount).toBe(0);
    expect(JSON.stringify(after)).not.toContain(MARKER);
    for (const line of file.server.logs) expect(line).not.toContain(MARKER);
  });
});

describe('plans and their checks', () => {
  it('blocks a downgrade, a FREE target and a name in use, and refuses to execute with PLAN_BLOCKED', async () => {
    const serviceId = await createService(gql, 'premium-src', 'PREMIUM');
    const backupId = await backupOf(serviceId);
    const down = (await plan({ backupId, targetName: 'premium-src', targetEdition: 'STANDARD' })).plan;
    expect(down.checks.filter((c: any) => c.severity === 'BLOCKER')).toEqual([
      {
        code: 'EDITION_DOWNGRADE',
        severity: 'BLOCKER',
        message:
          'The backup was taken on PREMIUM; it can only be restored to PREMIUM or a higher edition, not STANDARD',
      },
      {
        code: 'NAME_IN_USE',
        severity: 'BLOCKER',
        message: 'An ACTIVE service is named "premium-src"; delete it first, or restore to a new name',
      },
    ]);
    expect((await gql(EXECUTE, { id: down.id })).data.executeRestorePlan).toMatchObject({
      __typename: 'PlanBlockedError',
      code: 'PLAN_BLOCKED',
      blockers: [{ code: 'EDITION_DOWNGRADE' }, { code: 'NAME_IN_USE' }],
    });
    expect((await planState(down.id)).data.restorePlan.state).toBe('PLANNED');
    const free = (await plan({ backupId, targetName: 'free-target', targetEdition: 'FREE' })).plan;
    expect(codes(free).filter((c: string) => c.startsWith('BLOCKER'))).toEqual([
      'BLOCKER:EDITION_DOWNGRADE',
      'BLOCKER:EDITION_WITHOUT_BACKUP_RESTORE',
    ]);
  });

  it('restores a deleted service into its own name only once the hold has passed', async () => {
    const serviceId = await createService(gql, 'phoenix-svc');
    const backupId = await backupOf(serviceId);
    await gql(lifecycle('deleteService'), { id: serviceId });
    const held = (await plan({ backupId, targetName: 'phoenix-svc' })).plan;
    const onHold = held.checks.find((c: any) => c.code === 'NAME_ON_HOLD');
    expect(onHold.severity).toBe('BLOCKER');
    expect(onHold.message).toMatch(
      /^"phoenix-svc" belonged to a service deleted recently; the name becomes available at \d{4}-\d\d-\d\dT[\d:.]+Z\. Wait until then, or restore to a new name$/,
    );
    await new Promise((r) => setTimeout(r, 2100));
    expect((await gql(EXECUTE, { id: held.id })).data.executeRestorePlan.plan.state).toBe('RESTORING'); // re-validated at execute: the hold has passed
    const done = await until(
      () => planState(held.id),
      (r) => r.data.restorePlan.state === 'SUSPENDED',
    );
    expect(done.data.restorePlan.service).toMatchObject({ name: 'phoenix-svc', state: 'SUSPENDED' });
  });

  it('restores across regions and into a higher edition', async () => {
    const serviceId = await createService(gql, 'basic-west', 'BASIC');
    const backupId = await backupOf(serviceId);
    const p = (await plan({ backupId, targetName: 'premium-east', targetEdition: 'PREMIUM', targetRegion: 'eastasia' }))
      .plan;
    expect(codes(p).filter((c: string) => !c.startsWith('INFO'))).toEqual([]);
    await gql(EXECUTE, { id: p.id });
    const done = await until(
      () => gql('{ service(name: "premium-east") { edition region state } }'),
      (r) => r.data.service?.state === 'SUSPENDED',
    );
    expect(done.data.service).toEqual({ edition: 'PREMIUM', region: 'eastasia', state: 'SUSPENDED' });
  });

  it('gives one name to exactly one of several plans executed at once', async () => {
    const serviceId = await createService(gql, 'race-src');
    const backupId = await backupOf(serviceId);
    const plans = await Promise.all(Array.from({ length: 5 }, () => plan({ backupId, targetName: 'race-target' })));
    const results = await Promise.all(plans.map((p) => gql(EXECUTE, { id: p.plan.id })));
    const kinds = results.map((r) => r.data.executeRestorePlan.__typename).sort();
    expect(kinds).toEqual(['ExecuteRestorePlanSuccess', ...Array(4).fill('NameUnavailableError')]);
    const live = await gql('{ services(states: [RESTORING, SUSPENDED]) { edges { node { name } } } }');
    expect(live.data.services.edges.filter((e: any) => e.node.name === 'race-target')).toHaveLength(1);
  });

  it("warns that RESTORE_FROM_BACKUP would resend control numbers, and restores the backup's numbers under it", async () => {
    const built = await buildService(gql, 'drift-src');
    const backupId = await backupOf(built.serviceId);
    for (let i = 0; i < 3; i++) await gql(PROCESS, { id: built.agreements.as2 });
    const p = (await plan({ backupId, targetName: 'drift-copy', controlNumberPolicy: 'RESTORE_FROM_BACKUP' })).plan;
    expect(p.checks.find((c: any) => c.code === 'CONTROL_NUMBER_DRIFT').message).toBe(
      'Control numbers were issued after this backup on 1 agreement(s): "Contoso-Fabrikam AS2" (3 interchange(s)); with RESTORE_FROM_BACKUP the restored agreements would send those numbers again: duplicates your partners may reject',
    );
    await gql(EXECUTE, { id: p.id });
    await until(
      () => planState(p.id),
      (r) => r.data.restorePlan.state === 'SUSPENDED',
    );
    const copy = await gql(
      '{ service(name: "drift-copy") { agreements { edges { node { name controlNumbers { interchange } controlNumbersHighWater { interchange } } } } } }',
    );
    const as2 = copy.data.service.agreements.edges.find((e: any) => e.node.name === 'Contoso-Fabrikam AS2').node;
    expect(as2).toEqual({
      name: 'Contoso-Fabrikam AS2',
      controlNumbers: { interchange: 0 },
      controlNumbersHighWater: { interchange: 3 },
    });
  });

  it('streams a plan to many subscribers at once with one read of its history per event, not one per subscriber', async () => {
    const serviceId = await createService(gql, 'fanout-src');
    const p = (await plan({ backupId: await backupOf(serviceId), targetName: 'fanout-copy' })).plan;
    await gql(EXECUTE, { id: p.id });
    const suspended = await until(
      () => planState(p.id),
      (r) => r.data.restorePlan.state === 'SUSPENDED',
    );
    const history = suspended.data.restorePlan.history.map((e: any) => e.sequence);
    const clients = Array.from({ length: 6 }, () => file.server.ws());
    const subscribers = Array.from({ length: 30 }, (_, i) =>
      collect(
        clients[i % clients.length]!,
        'subscription ($id: ID!) { restoreProgress(planId: $id) { sequence state } }',
        { id: p.id },
        100,
      ),
    );
    await until(
      async () => subscribers.map((s) => s.events.length),
      (counts) => counts.every((n) => n === history.length),
    );
    file.server.queries.length = 0;
    expect(
      (await gql(RESUME, { id: suspended.data.restorePlan.service.id, force: true })).data.resumeService.service.state,
    ).toBe('ACTIVE');
    for (const events of await Promise.all(subscribers.map((s) => s.done))) {
      expect(events.map((e: any) => e.restoreProgress.sequence)).toEqual([...history, history.length + 1]);
      expect(events.at(-1).restoreProgress.state).toBe('ACTIVE');
    }
    expect(file.server.queries.filter((q) => /^select .* from "restore_events"/.test(q))).toHaveLength(1);
  });

  it('cancels a plan, and replays the whole history to a late subscriber before completing', async () => {
    const serviceId = await createService(gql, 'cancel-src');
    const backupId = await backupOf(serviceId);
    const p = (await plan({ backupId, targetName: 'cancel-copy' })).plan;
    const cancelled = await gql(
      'mutation ($id: ID!) { cancelRestorePlan(input: { planId: $id }) { ... on CancelRestorePlanSuccess { plan { state } } } }',
      { id: p.id },
    );
    expect(cancelled.data.cancelRestorePlan.plan.state).toBe('CANCELLED');
    const late = collect(file.server.ws(), PROGRESS, { id: p.id }, 10);
    expect((await late.done).map((e) => [e.restoreProgress.sequence, e.restoreProgress.state])).toEqual([
      [1, 'PLANNED'],
      [2, 'CANCELLED'],
    ]);
    expect((await gql(EXECUTE, { id: p.id })).data.executeRestorePlan).toMatchObject({ code: 'INVALID_STATE' });
  });

  it("shows serviceStateChanged subscribers a cancelled restore's target going from RESTORING to DELETED", async () => {
    const serviceId = await createService(gql, 'cancel-live-src');
    const p = (await plan({ backupId: await backupOf(serviceId), targetName: 'cancel-live-copy' })).plan;
    const sub = await watchServiceStates(2);
    // The restore stops at its first step, as at a shutdown, so that it is still RESTORING when cancelled.
    const { background } = file.server.app.runtime;
    background.stopping = true;
    expect((await gql(EXECUTE, { id: p.id })).data.executeRestorePlan.plan.state).toBe('RESTORING');
    await until(
      async () => background.size,
      (n) => n === 0,
    );
    background.stopping = false;
    const cancelled = await gql(
      'mutation ($id: ID!) { cancelRestorePlan(input: { planId: $id }) { ... on CancelRestorePlanSuccess { plan { state } } } }',
      { id: p.id },
    );
    expect(cancelled.data.cancelRestorePlan.plan.state).toBe('CANCELLED');
    expect((await sub.done).map((e: any) => e.serviceStateChanged)).toMatchObject([
      { previousState: null, state: 'RESTORING' },
      { previousState: 'RESTORING', state: 'DELETED', service: null },
    ]);
  });

  it("shows serviceStateChanged subscribers a failed restore's target going from RESTORING to DELETED", async () => {
    const serviceId = await createService(gql, 'fail-live-src');
    const backupId = await backupOf(serviceId);
    const p = (await plan({ backupId, targetName: 'fail-live-copy' })).plan;
    await damage(backupId);
    const sub = await watchServiceStates(2);
    expect((await gql(EXECUTE, { id: p.id })).data.executeRestorePlan.plan.state).toBe('RESTORING');
    expect((await sub.done).map((e: any) => e.serviceStateChanged)).toMatchObject([
      { previousState: null, state: 'RESTORING' },
      { previousState: 'RESTORING', state: 'DELETED', service: null },
    ]);
    expect((await planState(p.id)).data.restorePlan.state).toBe('FAILED');
  });

  it('publishes a plan event only when its transaction commits', async () => {
    const serviceId = await createService(gql, 'commit-src');
    const p = (await plan({ backupId: await backupOf(serviceId), targetName: 'commit-copy' })).plan;
    const sub = collect(
      file.server.ws(),
      'subscription ($id: ID!) { restoreProgress(planId: $id) { sequence state message } }',
      { id: p.id },
      10,
    );
    await until(
      async () => sub.events.length,
      (n) => n === 1,
    );
    const planId = rawId(p.id);
    const { db } = file.server.app.runtime.database;
    await db
      .transaction(async (tx) => {
        await appendEvent(tx, planId, 'PLANNED', 'PLANNED', 'rolled back');
        tx.rollback();
      })
      .catch(() => {});
    await gql('mutation ($id: ID!) { cancelRestorePlan(input: { planId: $id }) { __typename } }', { id: p.id });
    expect(
      (await sub.done).map((e: any) => [
        e.restoreProgress.sequence,
        e.restoreProgress.state,
        e.restoreProgress.message,
      ]),
    ).toEqual([
      [1, 'PLANNED', 'Planned: 0 warning(s) to review, no blocker'],
      [2, 'CANCELLED', 'Cancelled before it started'],
    ]);
  });

  it('replays a finished plan over server-sent events and ends the stream', async () => {
    const serviceId = await createService(gql, 'sse-src');
    const p = (await plan({ backupId: await backupOf(serviceId), targetName: 'sse-copy' })).plan;
    await gql('mutation ($id: ID!) { cancelRestorePlan(input: { planId: $id }) { __typename } }', { id: p.id });
    const response = await fetch(file.server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${ADMIN_TOKEN}`,
      },
      body: JSON.stringify({
        query: 'subscription ($id: ID!) { restoreProgress(planId: $id) { sequence state } }',
        variables: { id: p.id },
      }),
    });
    const events = (await response.text())
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)).data.restoreProgress);
    expect(events).toEqual([
      { sequence: 1, state: 'PLANNED' },
      { sequence: 2, state: 'CANCELLED' },
    ]);
  });

  it('keeps a finished plan when its backup is deleted, but refuses to delete the backup of a PLANNED plan', async () => {
    const serviceId = await createService(gql, 'history-src');
    const backupId = await backupOf(serviceId);
    const planned = (await plan({ backupId, targetName: 'history-copy' })).plan;
    const remove = () =>
      gql(
        'mutation ($id: ID!) { deleteBackup(input: { backupId: $id }) { __typename ... on Error { code message } } }',
        { id: backupId },
      );
    expect((await remove()).data.deleteBackup).toEqual({
      __typename: 'InvalidStateError',
      code: 'INVALID_STATE',
      message: 'A PLANNED restore plan uses this backup; execute or cancel it first',
    });
    await gql('mutation ($id: ID!) { cancelRestorePlan(input: { planId: $id }) { __typename } }', { id: planned.id });
    expect((await remove()).data.deleteBackup.__typename).toBe('DeleteBackupSuccess');
    const after = await gql('query ($id: ID!) { restorePlan(id: $id) { state backup { id } history { state } } }', {
      id: planned.id,
    });
    expect(after.data.restorePlan).toEqual({
      state: 'CANCELLED',
      backup: null,
      history: [{ state: 'PLANNED' }, { state: 'CANCELLED' }],
    });
  });

  it('refuses to restore a CORRUPT backup', async () => {
    const serviceId = await createService(gql, 'corrupt-src');
    const backupId = await backupOf(serviceId);
    await damage(backupId);
    const p = (await plan({ backupId, targetName: 'corrupt-copy' })).plan;
    expect(p.checks.find((c: any) => c.severity === 'BLOCKER')).toEqual({
      code: 'BACKUP_NOT_RESTORABLE',
      severity: 'BLOCKER',
      message:
        'This backup cannot be restored: its content does not match its checksum (now marked CORRUPT). Pick another backup',
    });
    expect((await gql('query ($id: ID!) { backup(id: $id) { status } }', { id: backupId })).data.backup.status).toBe(
      'CORRUPT',
    );
  });

  it('finds a backup damaged after planning while restoring it: rolls back, fails the plan and marks the backup CORRUPT', async () => {
    const serviceId = await createService(gql, 'damaged-later');
    const backupId = await backupOf(serviceId);
    const p = (await plan({ backupId, targetName: 'damaged-later-copy' })).plan;
    expect(p.checks.filter((c: any) => c.severity === 'BLOCKER')).toEqual([]);
    await damage(backupId);
    // Executing re-validates without reading the content again: the restore itself finds the damage.
    expect((await gql(EXECUTE, { id: p.id })).data.executeRestorePlan.plan.state).toBe('RESTORING');
    const ended = (
      await until(
        () => planState(p.id),
        (r) => r.data.restorePlan.state !== 'RESTORING',
      )
    ).data.restorePlan;
    expect(ended).toMatchObject({
      state: 'FAILED',
      failureReason: 'the backup content does not match its checksum; the backup is now CORRUPT',
      service: null,
    });
    expect((await gql('query ($id: ID!) { backup(id: $id) { status } }', { id: backupId })).data.backup.status).toBe(
      'CORRUPT',
    );
    expect(
      (await gql('query { nameAvailability(name: "damaged-later-copy") { available } }')).data.nameAvailability
        .available,
    ).toBe(true);
  });
});
