import type { Sql } from '../lib/db';
import { launchChromium, startConsoleStack } from '../test/helpers/console-stack';
import { insertIdleJobs } from './database';
import { median } from './report';

export interface ConsoleResult {
  jobs: number;
  /** Navigation start to the first page of jobs on screen and usable, per cold load (ms). */
  interactiveMs: number[];
  medianMs: number;
}

/**
 * The console's first page on `npm start`'s stack (lib/local/main.ts on this database) with
 * `jobs` jobs: each load in a fresh browser context (nothing cached), timed in the page from
 * navigation start until the jobs table has its rows and the filters accept input.
 */
export async function benchConsole(
  url: string,
  sql: Sql,
  options: { jobs: number; loads: number },
): Promise<ConsoleResult> {
  await insertIdleJobs(sql, options.jobs);
  const stack = await startConsoleStack({ DATABASE_URL: url }, 'lib/local/main.ts');
  const browser = await launchChromium();
  const interactiveMs: number[] = [];
  try {
    for (let load = 0; load < options.loads; load += 1) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      // Runs in the page before the console's own script (a string: this file has no DOM types).
      await page.addInitScript({
        content: `new MutationObserver((changes, observer) => {
          const search = document.querySelector('#search');
          if (document.querySelector('tbody tr') && search && !search.disabled) {
            window.interactiveAt = performance.now();
            observer.disconnect();
          }
        }).observe(document, { childList: true, subtree: true });`,
      });
      await page.goto(`${stack.url}/`);
      await page.locator('tbody tr').first().waitFor({ timeout: 30_000 });
      interactiveMs.push(Number(await page.evaluate('window.interactiveAt')));
      await context.close();
    }
  } finally {
    await browser.close();
    await stack.stop();
    await sql`truncate cron_job cascade`;
  }
  return { jobs: options.jobs, interactiveMs, medianMs: median(interactiveMs) };
}
