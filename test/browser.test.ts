import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService } from './helpers/artifacts.js';
import { ADMIN_TOKEN, useTestServer } from './helpers/server.js';
import { until } from './helpers/wait.js';

// GraphiQL in a real browser: Debian's chromium (.ci/run installs it), driven by playwright-core.
const CHROMIUM = '/usr/bin/chromium';
const file = useTestServer();
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
});

/**
 * Opens a new GraphiQL tab, types an operation and sets the Authorization header in the tab's
 * Headers editor, as an operator does, then runs it. (Monaco closes brackets and quotes as they are
 * typed, and overtypes them when the closing one is typed.)
 */
async function runInNewTab(page: Page, operation: string) {
  await page.getByRole('button', { name: 'New tab' }).click();
  await page.locator('.graphiql-query-editor .monaco-editor').first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(operation);
  await page.getByText('Headers', { exact: true }).click();
  await page.locator('.graphiql-editor-tool .monaco-editor').last().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(`{"Authorization": "Bearer ${ADMIN_TOKEN}"}`);
  await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).click();
}

/** Text of a GraphiQL pane; Monaco draws spaces as no-break spaces. */
const text = async (page: Page, selector: string) =>
  (await page.locator(selector).innerText()).replaceAll('\u00a0', ' ');
const response = (page: Page) => text(page, '.graphiql-response');

describe.skipIf(!existsSync(CHROMIUM))('GraphiQL in a browser', () => {
  it('runs a query and streams a restore subscription live, with the Authorization header set in GraphiQL', async () => {
    const serviceId = await createService(file.server.gql.bind(file.server), 'browser-source');
    const backup = await file.server.gql(
      'mutation ($id: ID!) { createBackup(input: { serviceId: $id }) { ... on CreateBackupSuccess { backup { id } } } }',
      { id: serviceId },
    );
    const backupId = backup.data.createBackup.backup.id;
    await until(
      () => file.server.gql('query ($id: ID!) { backup(id: $id) { status } }', { id: backupId }),
      (r) => r.data.backup.status === 'SUCCEEDED',
    );
    const plan = await file.server.gql(
      'mutation ($b: ID!) { createRestorePlan(input: { backupId: $b, targetName: "browser-copy" }) { ... on CreateRestorePlanSuccess { plan { id } } } }',
      { b: backupId },
    );
    const planId = plan.data.createRestorePlan.plan.id;

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    mkdirSync('test/artifacts', { recursive: true });
    try {
      await page.goto(file.server.url);
      await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).waitFor();
      expect(await text(page, '.graphiql-query-editor')).toContain('Welcome to BizTalk Backup');

      await runInNewTab(page, '{ services { totalCount edges { node { name state } } } }');
      await page.waitForFunction(
        () => document.querySelector('.graphiql-response')?.textContent?.includes('browser-source'),
        undefined,
        { timeout: 15_000 },
      );
      expect(await response(page)).toContain('"totalCount": 1');

      await runInNewTab(page, `subscription { restoreProgress(planId: "${planId}") { sequence state message } }`);
      await page.waitForFunction(
        () => document.querySelector('.graphiql-response')?.textContent?.includes('PLANNED'),
        undefined,
        { timeout: 15_000 },
      );
      await file.server.gql('mutation ($id: ID!) { executeRestorePlan(input: { planId: $id }) { __typename } }', {
        id: planId,
      });
      await page.waitForFunction(
        () => document.querySelector('.graphiql-response')?.textContent?.includes('SUSPENDED'),
        undefined,
        { timeout: 30_000 },
      );
      expect(await response(page)).toContain('"state": "SUSPENDED"');
      await page.screenshot({ path: 'test/artifacts/graphiql-restore.png' });
    } catch (error) {
      await page.screenshot({ path: 'test/artifacts/graphiql-failure.png' });
      throw error;
    } finally {
      await page.close();
    }
  }, 90_000);
});
