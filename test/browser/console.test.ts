import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database';
import {
  expectAccessible,
  launchChromium,
  screenshot,
  startConsoleStack,
  type ConsoleStack,
} from '../helpers/browser';

const ADMIN_TOKEN = 'console-admin-token-0123456789';
const ACME_TOKEN = 'console-acme-token-0123456789';
const { url: databaseUrl } = await createTestDatabase();

let stack: ConsoleStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startConsoleStack({
      DATABASE_URL: databaseUrl,
      CRON_API_TOKEN: ADMIN_TOKEN,
      CRON_API_TOKENS: `${ACME_TOKEN}:alice:acme`,
    }),
    launchChromium(),
  ]);
  context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    timezoneId: 'America/New_York',
  });
  context.setDefaultTimeout(20_000);
  page = await context.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The API as the console's admin token sees it, for setting up and checking. */
async function apiCall(method: string, path: string, body?: unknown) {
  const response = await fetch(`${stack.url}/api/cron${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const heading = () => page.getByRole('heading', { level: 1 });

describe('the console in a real browser', { timeout: 120_000 }, () => {
  it('asks for the API token, keeps it for the tab, and lists the jobs', async () => {
    const requested: string[] = [];
    page.on('request', (request) =>
      requested.push(new URL(request.url()).pathname + new URL(request.url()).search),
    );
    await page.goto(`${stack.url}/`);
    await expect.poll(() => heading().textContent()).toBe('Sign in');
    await expectAccessible(page, 'sign-in');
    await page.getByLabel('API token').fill('not-the-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The API did not accept this token.').waitFor();
    await page.getByLabel('API token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Mark Users Offline' }).waitFor();
    expect(await heading().textContent()).toBe('Jobs');
    const rows = page.locator('tbody tr');
    expect(await rows.count()).toBe(3);
    // The first page asks the server for one page of 50 jobs, and loads no other page's code.
    expect(requested).toContain('/api/cron/jobs?limit=50');
    expect(requested.filter((path) => /^\/assets\/(job|job-form|run|runs)-/.test(path))).toEqual(
      [],
    );
    await expectAccessible(page, 'jobs');
    await screenshot(page, 'jobs');

    // The name search and the executor filter.
    await page.getByLabel('Name').fill('offline');
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByLabel('Name').fill('');
    await page.getByLabel('Executor').selectOption('cleanOldActivities');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('Clean Old Activities');
  });

  let jobUrl = '';

  it('creates a job through the form, showing the API’s refusal at the schedule field', async () => {
    const chunks: string[] = [];
    page.on('request', (request) => chunks.push(new URL(request.url()).pathname));
    await page.getByRole('link', { name: 'New job' }).first().click();
    await expect.poll(() => heading().textContent()).toBe('New job');
    // The form's code came as a chunk of its own, when the form first opened.
    expect(chunks.some((path) => /^\/assets\/job-form-[\w-]+\.js$/.test(path))).toBe(true);
    await page.getByLabel('Name').fill('Console demo');
    await page.getByLabel('Executor').selectOption('slowLogger');
    // The config inputs come from the executor's published JSON Schema, defaults filled in.
    await expect.poll(() => page.getByLabel('every_ms').inputValue()).toBe('200');
    await expect.poll(() => page.getByLabel('lines').inputValue()).toBe('10');
    await page.getByLabel('Schedule').fill('every_7_minutes');
    await page.getByLabel('lines').fill('500');
    await page.getByRole('button', { name: 'Create job' }).click();

    // The API's own messages, each next to the field it names.
    const refused = await apiCall('POST', '/jobs', {
      name: 'Console demo',
      schedule: 'every_7_minutes',
      function_name: 'slowLogger',
      metadata: { lines: 500 },
    });
    expect(refused.status).toBe(400);
    const messageFor = (path: string) =>
      refused.body.errors.find((error: { path: string }) => error.path === path).message;
    const scheduleError = page.locator('.field-error[data-path="schedule"]');
    await scheduleError.waitFor();
    expect(await scheduleError.textContent()).toBe(messageFor('schedule'));
    expect(await page.locator('.field-error[data-path="metadata.lines"]').textContent()).toBe(
      messageFor('metadata.lines'),
    );
    expect(await page.getByLabel('Schedule').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'job form with errors');
    await screenshot(page, 'job-form-errors');

    await page.getByLabel('Schedule').fill('hourly');
    await page.getByLabel('lines').fill('10');
    await page.getByRole('button', { name: 'Create job' }).click();
    await expect.poll(() => heading().textContent()).toBe('Console demo');
    jobUrl = page.url();
    expect(await page.getByText('slowLogger').first().isVisible()).toBe(true);
    await expectAccessible(page, 'job');
  });

  it('runs it now and shows its log lines while it runs, then the whole log', async () => {
    await page.getByRole('button', { name: 'Run now' }).click();
    const lines = page.locator('ol.log li');
    await lines.first().waitFor();
    // The first line is on screen while the run is still going: it was tailed, not read after.
    expect(await page.locator('.title-row .badge').textContent()).toBe('running');
    expect(await lines.count()).toBeLessThan(10);
    await screenshot(page, 'run-live');
    await page.getByText('Whole log: 10 lines.').waitFor();
    expect(await page.locator('.title-row .badge').textContent()).toBe('success');
    expect(await lines.allTextContents()).toEqual(
      Array.from({ length: 10 }, (_, i) => expect.stringContaining(`step ${i + 1} of 10`)),
    );
    await expectAccessible(page, 'run');
  });

  it('shows the failure after an executor throws', async () => {
    const created = await apiCall('POST', '/jobs', {
      name: 'Always fails',
      schedule: 'daily',
      function_name: 'alwaysThrows',
    });
    expect(created.status).toBe(201);
    await page.goto(`${stack.url}/#/jobs/${created.body.id}`);
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByText('Whole log: 1 line.').waitFor();
    expect(await page.locator('.title-row .badge').textContent()).toBe('error');
    expect(await page.locator('.run-error').textContent()).toBe('exploded on purpose');
    expect(await page.locator('ol.log li').textContent()).toContain('about to fail');
    await screenshot(page, 'run-failed');

    await page.getByRole('link', { name: 'Always fails' }).click();
    await page.getByText('Last error: exploded on purpose').waitFor();
    expect(await page.locator('.title-row .badge').textContent()).toBe('failing');

    await page.getByRole('link', { name: 'Runs & system' }).click();
    await expect.poll(() => heading().textContent()).toBe('Runs & system');
    await page.getByRole('cell', { name: 'exploded on purpose' }).waitFor();
    await page.getByRole('heading', { name: 'Lost runs (24 h)' }).waitFor();
    await expectAccessible(page, 'runs and system');
    await screenshot(page, 'runs-system');
  });

  it('previews the next slots as a schedule is typed, in local time and UTC, DST marked', async () => {
    const id = jobUrl.split('/').at(-1)!;
    await page.goto(`${jobUrl}/edit`);
    await expect.poll(() => heading().textContent()).toBe('Edit Console demo');
    // Noon on the first of every third month in New York: five slots span a year, so both
    // daylight-saving changes fall between them whatever today is.
    const quarterly = 'cron:0 12 1 1,4,7,10 *';
    await page.getByLabel('Schedule').fill(quarterly);
    await page.getByLabel('Time zone').fill('America/New_York');
    const rows = page.locator('.preview table.slots tbody tr');
    await expect.poll(() => rows.count()).toBe(5);
    const preview = await apiCall(
      'GET',
      `/schedules/preview?${new URLSearchParams({ schedule: quarterly, timezone: 'America/New_York', count: '5' })}`,
    );
    expect(preview.status).toBe(200);
    const texts = await rows.allTextContents();
    preview.body.slots.forEach(
      (slot: { local: string; utc: string; offset: string }, i: number) => {
        expect(texts[i]).toContain(`${slot.local.replace('T', ' ')} ${slot.offset}`);
        expect(texts[i]).toContain(slot.utc.replace('T', ' ').replace('.000Z', ''));
      },
    );
    const changes = preview.body.slots.filter(
      (slot: { dst_transition: unknown }) => slot.dst_transition,
    ).length;
    expect(changes).toBeGreaterThanOrEqual(2);
    expect(await page.locator('.preview .dst-mark').count()).toBe(changes);
    expect(await page.locator('.preview .dst-mark').allTextContents()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/DST clocks go forward at .* \(-05:00 → -04:00\)/),
        expect.stringMatching(/DST clocks go back at .* \(-04:00 → -05:00\)/),
      ]),
    );
    await expectAccessible(page, 'job form with schedule preview');
    await screenshot(page, 'job-form-preview');

    // A schedule the API refuses: the preview says why, in the API's words.
    await page.getByLabel('Schedule').fill('cron:0 0 30 2 *');
    await expect
      .poll(() => page.locator('.preview-problem').textContent())
      .toContain('it can never fire');

    await page.getByLabel('Schedule').fill(quarterly);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => heading().textContent()).toBe('Console demo');
    // The job page lists the job's own next slots (GET /jobs/{id}/next).
    const next = await apiCall('GET', `/jobs/${id}/next?count=5`);
    const jobRows = page.locator('table.slots tbody tr');
    await expect.poll(() => jobRows.count()).toBe(5);
    expect((await jobRows.first().textContent()) ?? '').toContain(
      next.body.slots[0].utc.replace('T', ' ').replace('.000Z', ''),
    );
    expect(await page.locator('table.slots .dst-mark').count()).toBe(changes);
  });

  it('pauses a job with a reason and a resume time, in an accessible dialog, and resumes it', async () => {
    await page.goto(jobUrl);
    await expect.poll(() => heading().textContent()).toBe('Console demo');
    const id = jobUrl.split('/').at(-1)!;
    const badge = page.locator('.title-row .badge').first();
    expect(await badge.textContent()).toBe('active');

    await page.getByRole('button', { name: 'Pause…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Pause this job' });
    await dialog.getByLabel('Reason').waitFor();
    await expectAccessible(page, 'pause dialog');
    await dialog.getByLabel('Reason').fill('CRM maintenance window');
    // The browser's zone is New York: 09:00 there is 14:00 UTC in January.
    await dialog.getByLabel(/Resume by itself at/).fill('2030-01-15T09:00');
    await screenshot(page, 'pause-dialog');
    await dialog.getByRole('button', { name: 'Pause', exact: true }).click();

    await expect.poll(() => badge.textContent()).toBe('paused');
    const notice = page.locator('.notice');
    expect(await notice.textContent()).toContain(': CRM maintenance window');
    expect(await notice.textContent()).toContain('Resumes by itself after Jan 15, 2030');
    const paused = await apiCall('GET', `/jobs/${id}`);
    expect(paused.body).toMatchObject({
      paused_reason: 'CRM maintenance window',
      paused_until: '2030-01-15T14:00:00.000Z',
    });
    expect(paused.body.paused_at).not.toBeNull();
    await page.getByText('runs none of them until it is resumed').waitFor();
    await expectAccessible(page, 'paused job');

    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => badge.textContent()).toBe('active');
    expect(await notice.count()).toBe(0);
    const resumed = await apiCall('GET', `/jobs/${id}`);
    expect(resumed.body).toMatchObject({ paused_reason: null, paused_at: null, is_active: true });
    const audit = await apiCall('GET', `/jobs/${id}/audit`);
    expect(audit.body.entries.map((entry: { action: string }) => entry.action)).toEqual(
      expect.arrayContaining(['pause', 'resume']),
    );
  });

  it('deletes a job after confirmation', async () => {
    await page.goto(jobUrl);
    await expect.poll(() => heading().textContent()).toBe('Console demo');
    await screenshot(page, 'job');
    const id = jobUrl.split('/').at(-1)!;
    await page.getByRole('button', { name: 'Delete…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete this job?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect((await apiCall('GET', `/jobs/${id}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete…' }).click();
    await confirm.getByRole('button', { name: 'Delete' }).waitFor();
    await expectAccessible(page, 'delete dialog');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => heading().textContent()).toBe('Jobs');
    await page.getByRole('link', { name: 'Mark Users Offline' }).waitFor();
    expect(await page.getByRole('link', { name: 'Console demo' }).count()).toBe(0);
    expect((await apiCall('GET', `/jobs/${id}`)).status).toBe(404);
  });

  it('shows a tenant token only its tenant’s jobs', async () => {
    const ids: Record<string, string> = {};
    for (const [name, tenant] of [
      ['Acme nightly export', 'acme'],
      ['Globex nightly export', 'globex'],
    ] as const) {
      const created = await apiCall('POST', '/jobs', {
        name,
        schedule: 'daily',
        function_name: 'slowLogger',
        tenant_id: tenant,
      });
      expect(created.status).toBe(201);
      ids[tenant] = created.body.id;
    }
    // A fresh context: its own sessionStorage, so no token yet.
    const tenantContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const tenantPage = await tenantContext.newPage();
    await tenantPage.goto(`${stack.url}/`);
    await tenantPage.getByLabel('API token').fill(ACME_TOKEN);
    await tenantPage.getByRole('button', { name: 'Sign in' }).click();
    await tenantPage.getByRole('link', { name: 'Acme nightly export' }).waitFor();
    expect(await tenantPage.locator('tbody tr a').allTextContents()).toEqual([
      'Acme nightly export',
    ]);
    // Another tenant's job, even by its address, is not there.
    await tenantPage.goto(`${stack.url}/#/jobs/${ids.globex}`);
    await tenantPage.getByText('404 Not Found').waitFor();
    expect(await tenantPage.getByText('Globex nightly export').count()).toBe(0);
    await tenantContext.close();
  });
});
