import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renewApiToken } from '../src/auth/service.js';
import { seedDemo } from '../src/demo.js';
import { useTestServer } from './helpers/server.js';

// The operator console in a real browser: Debian's chromium (.ci/run installs it), driven by playwright-core.
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test/artifacts/console';
const file = useTestServer();
let browser: Browser;
let demoToken: string;
let root: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  demoToken = await renewApiToken(file.server.app.runtime, 'demo-admin-', 'ADMIN');
  await seedDemo(file.server.app, demoToken);
  root = new URL('/', file.server.url).href;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-sync'],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

/** Signs in as an operator does: the token typed in the labelled field, sent with Enter. */
async function signIn(page: Page, token: string) {
  await page.goto(root);
  await page.getByLabel('API token').fill(token);
  await page.getByLabel('API token').press('Enter');
}

const shot = (page: Page, name: string) => page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });

/** The cells of a table row, as shown. */
const cells = async (page: Page, selector: string) =>
  (await page.locator(`${selector} td`).allInnerTexts()).map((t) => t.trim());

describe.skipIf(!existsSync(CHROMIUM))('the operator console in a browser', () => {
  it('takes the demo from sign-in through a backup, a restore watched live and the checklist to ACTIVE', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    try {
      // Sign in: a wrong token is told so; the demo token shows who is signed in.
      await signIn(page, 'btb_not-a-real-token');
      await expect
        .poll(() => page.getByRole('alert').innerText())
        .toBe(
          'The token was not accepted: it is wrong, or it was revoked. Ask an ADMIN for a valid one (createApiToken)',
        );
      await page.getByLabel('API token').fill(demoToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('Signed in as').waitFor();
      expect(await page.locator('header .who').innerText()).toMatch(/^Signed in as demo-admin-\S+ \(ADMIN\)/);

      // Services: state, edition, region, last backup, next scheduled backup.
      await page.locator('tr[data-service="legacy-basic"]').waitFor();
      const contoso = await cells(page, 'tr[data-service="contoso-prod"]');
      expect(contoso.slice(0, 4)).toEqual(['contoso-prod', 'ACTIVE', 'PREMIUM', 'westeurope']);
      expect(contoso[4]).toMatch(/SUCCEEDED · Before the Q4 partner onboarding$/);
      expect(contoso[5]).not.toBe('no schedule');
      const legacy = await cells(page, 'tr[data-service="legacy-basic"]');
      expect(legacy.slice(0, 4)).toEqual(['legacy-basic', 'DELETED', 'BASIC', 'northeurope']);
      expect(legacy[5]).toBe('no schedule');
      expect(await page.getByText('No restore plan yet').isVisible()).toBe(true);
      await shot(page, '01-services');

      // A service's backups: Back up, then the new backup turns SUCCEEDED live; Verify it.
      await page.getByRole('link', { name: 'contoso-prod' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'contoso-prod' }).waitFor();
      expect(await page.getByTestId('service-state').innerText()).toBe('ACTIVE');
      expect(await page.getByRole('heading', { name: 'Backups (1)' }).isVisible()).toBe(true);
      await page.getByRole('button', { name: 'Back up', exact: true }).click();
      await page.getByRole('heading', { name: 'Backups (2)' }).waitFor();
      const newest = page.locator('tbody tr').first();
      await newest.locator('.status-SUCCEEDED').waitFor();
      expect(await newest.locator('td').nth(5).innerText()).toMatch(/^[0-9a-f]{12}… not verified$/);
      await newest.getByRole('button', { name: /^Verify backup/ }).click();
      await page.getByRole('status').filter({ hasText: 'Verified: SUCCEEDED' }).waitFor();
      await expect.poll(() => newest.locator('td').nth(5).innerText()).toMatch(/^[0-9a-f]{12}… verified /);
      await newest.locator('summary').focus();
      await page.keyboard.press('Enter');
      expect(await newest.locator('.counts li').allInnerTexts()).toContain('Agreements: 3');
      await shot(page, '02-service-backups');

      // Plan a restore of the deleted service's backup: the checks grouped by severity.
      await page.getByRole('link', { name: '← All services' }).click();
      await page.getByRole('link', { name: 'legacy-basic' }).click();
      await page.getByRole('heading', { name: 'legacy-basic' }).waitFor();
      expect(await page.getByRole('button', { name: 'Back up', exact: true }).count()).toBe(0); // DELETED
      await page.getByRole('button', { name: 'Plan a restore of backup Last backup before decommissioning' }).click();
      await page.getByLabel('Target name').fill('legacy-restored');
      await page.getByLabel('Target edition').selectOption('STANDARD');
      await page.getByRole('button', { name: 'Plan restore' }).click();
      await page.getByRole('heading', { name: /^Restore into legacy-restored/ }).waitFor();
      expect(await page.getByTestId('plan-state').innerText()).toBe('PLANNED');
      expect(await page.getByRole('region', { name: 'BLOCKER checks' }).count()).toBe(0);
      expect(await page.getByRole('region', { name: 'INFO checks' }).locator('code').allInnerTexts()).toEqual([
        'TRACKING_DATA_NOT_RESTORED',
        'ACS_CREDENTIALS_REVIEW',
        'RESTORES_SUSPENDED',
      ]);
      await page.getByRole('list', { name: 'Timeline' }).getByText('PLANNED').waitFor();
      await shot(page, '03-plan');

      // Execute: the timeline and a bar per category fill live, up to SUSPENDED and its checklist.
      await page.getByRole('button', { name: 'Execute' }).click();
      const timeline = page.getByRole('list', { name: 'Timeline' });
      await timeline.getByText('SUSPENDED', { exact: true }).waitFor();
      expect(await timeline.locator('strong').allInnerTexts()).toEqual(['PLANNED', 'RESTORING', 'SUSPENDED']);
      const bars = page.getByRole('list', { name: 'Progress per category' });
      expect(await bars.getByRole('progressbar', { name: 'Partners' }).getAttribute('value')).toBe('1');
      expect(await bars.locator('li', { hasText: 'Partners' }).locator('.count').innerText()).toBe('1 of 1');
      expect(await bars.locator('li', { hasText: 'Service settings' }).locator('.count').innerText()).toBe('1 of 1');
      await page.getByTestId('target-state').filter({ hasText: 'SUSPENDED' }).waitFor();
      expect(await page.getByTestId('plan-state').innerText()).toBe('SUSPENDED');
      expect(await page.locator('.checklist li .status').allInnerTexts()).toEqual(['Open', 'Open', 'Open']);
      await shot(page, '04-restore-live');

      // The checklist's actions, then Resume: the plan and the service become ACTIVE.
      await page.getByRole('button', { name: 'Mark done: Review ACS credentials' }).click();
      await page.getByRole('button', { name: 'Mark done: Confirm target environment' }).click();
      await page.getByLabel('Schedule (cron, UTC)').fill('0 3 * * *');
      await page.getByRole('button', { name: 'Set schedule' }).click();
      await expect
        .poll(() => page.locator('.checklist li .status').allInnerTexts())
        .toEqual(['✔ Done', '✔ Done', '✔ Done']);
      await page.getByRole('button', { name: 'Resume', exact: true }).click();
      await page.getByTestId('target-state').filter({ hasText: 'ACTIVE' }).waitFor();
      await timeline.getByText('ACTIVE', { exact: true }).waitFor();
      expect(await page.getByTestId('plan-state').innerText()).toBe('ACTIVE');
      expect(await timeline.locator('strong').allInnerTexts()).toEqual(['PLANNED', 'RESTORING', 'SUSPENDED', 'ACTIVE']);
      expect(await page.getByRole('button', { name: 'Resume', exact: true }).count()).toBe(0);
      await shot(page, '05-active');
      const planUrl = page.url();

      // A late arrival (another tab, signed in anew) sees the same history replayed.
      const late = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        await signIn(late, demoToken);
        await late.getByText('Signed in as').waitFor();
        await late.goto(planUrl);
        const replayed = late.getByRole('list', { name: 'Timeline' });
        await replayed.getByText('ACTIVE', { exact: true }).waitFor();
        expect(await replayed.locator('strong').allInnerTexts()).toEqual([
          'PLANNED',
          'RESTORING',
          'SUSPENDED',
          'ACTIVE',
        ]);
        expect(
          await late
            .getByRole('list', { name: 'Progress per category' })
            .locator('li', { hasText: 'Partners' })
            .locator('.count')
            .innerText(),
        ).toBe('1 of 1');
        await shot(late, '06-late-arrival');
      } finally {
        await late.close();
      }
    } catch (error) {
      await shot(page, 'failure');
      throw error;
    } finally {
      await page.close();
    }
  }, 120_000);

  it('shows the warnings of a restore beside the live service, and resumes it with force past an open FTP conflict', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(20_000);
    try {
      await signIn(page, demoToken);
      await page.getByRole('link', { name: 'contoso-prod' }).click();
      await page.getByRole('button', { name: 'Plan a restore of backup Before the Q4 partner onboarding' }).click();
      await page.getByLabel('Target name').fill('contoso-copy');
      await page.getByRole('button', { name: 'Plan restore' }).click();
      await page.getByRole('heading', { name: /^Restore into contoso-copy/ }).waitFor();
      const warnings = page.getByRole('region', { name: 'WARNING checks' });
      expect(await warnings.getByRole('heading').innerText()).toBe('WARNING (4)');
      expect(await warnings.locator('code').allInnerTexts()).toEqual([
        'CONTROL_NUMBER_DRIFT',
        'FTP_SOURCE_CONFLICT',
        'FTP_SOURCE_CONFLICT',
        'HYBRID_CONNECTIONS_NOT_RESTORED',
      ]);
      await page.getByRole('button', { name: 'Execute' }).click();
      const timeline = page.getByRole('list', { name: 'Timeline' });
      await timeline.getByText('SUSPENDED', { exact: true }).waitFor();
      const bars = page.getByRole('list', { name: 'Progress per category' });
      expect(await bars.locator('li', { hasText: 'Agreements' }).locator('.count').innerText()).toBe('3 of 3');
      expect(await bars.locator('li', { hasText: 'X12 mappings' }).locator('.count').innerText()).toBe('3 of 3');
      expect(await bars.locator('li', { hasText: 'AS2 MIC values' }).locator('.count').innerText()).toBe('12 of 12');
      await page.locator('.checklist').waitFor();
      expect(await page.locator('.checklist li strong').allInnerTexts()).toEqual([
        'Review ACS credentials',
        'Resolve FTP source conflict',
        'Resolve FTP source conflict',
        'Confirm target environment',
        'Configure automated backups',
      ]);
      await page.screenshot({ path: `${ARTIFACTS}/restore-with-warnings.png` });

      await page.getByRole('button', { name: 'Resume', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'CHECKLIST_INCOMPLETE' }).waitFor();
      expect(await page.getByTestId('target-state').innerText()).toBe('SUSPENDED');
      await page.getByRole('button', { name: 'Resume anyway (force)' }).click();
      await page.getByTestId('target-state').filter({ hasText: 'ACTIVE' }).waitFor();
      await expect.poll(() => page.getByTestId('plan-state').innerText()).toBe('ACTIVE');
    } catch (error) {
      await shot(page, 'failure-warnings');
      throw error;
    } finally {
      await page.close();
    }
  }, 90_000);

  it('offers a READER no action: no Back up, Verify, Plan a restore or Execute', async () => {
    const created = await file.server.gql(
      'mutation { createApiToken(input: { name: "console-reader", role: READER }) { ... on CreateApiTokenSuccess { secret } } }',
    );
    const page = await browser.newPage();
    try {
      await signIn(page, created.data.createApiToken.secret);
      await page.getByText('Signed in as').waitFor();
      expect(await page.locator('header .who').innerText()).toMatch(/^Signed in as console-reader \(READER\)/);
      await page.getByRole('link', { name: 'contoso-prod' }).click();
      await page.getByRole('heading', { name: /^Backups/ }).waitFor();
      expect(await page.locator('tbody tr').count()).toBeGreaterThan(0);
      expect(await page.getByRole('button').allInnerTexts()).toEqual(['Sign out']);
      await page.goBack();
      // The plan restored by the first test, now ACTIVE; and one still PLANNED offers no Execute either.
      await page.locator('a[href^="#/plans/"]', { hasText: 'legacy-restored' }).click();
      await page.getByTestId('plan-state').filter({ hasText: 'ACTIVE' }).waitFor();
      expect(await page.getByRole('button').allInnerTexts()).toEqual(['Sign out']);
      const planned = await file.server.gql(
        'mutation ($b: ID!) { createRestorePlan(input: { backupId: $b, targetName: "reader-sees" }) { ... on CreateRestorePlanSuccess { plan { id } } } }',
        {
          b: (await file.server.gql('{ backups(serviceName: "legacy-basic") { edges { node { id } } } }')).data.backups
            .edges[0].node.id,
        },
      );
      await page.goto(`${root}#/plans/${planned.data.createRestorePlan.plan.id}`);
      await page.getByTestId('plan-state').filter({ hasText: 'PLANNED' }).waitFor();
      expect(await page.getByRole('region', { name: 'INFO checks' }).isVisible()).toBe(true);
      expect(await page.getByRole('button').allInnerTexts()).toEqual(['Sign out']);
    } finally {
      await page.close();
    }
  }, 60_000);
});
