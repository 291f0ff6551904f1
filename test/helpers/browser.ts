import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export { launchChromium, startConsoleStack, type ConsoleStack } from './console-stack';

const root = path.resolve(import.meta.dirname, '../..');

/** axe-core on the page as it is now: no serious or critical violation. */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const grave = results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.slice(0, 3).map((node) => node.target.join(' ')),
    }));
  expect(grave, `${where}: serious or critical accessibility violations`).toEqual([]);
}

/**
 * A screenshot of the page for docs/console.md. Written to docs/console/ when
 * CONSOLE_SCREENSHOTS=1 (refreshing the committed ones); otherwise only taken, so a test run
 * leaves the working tree as it was.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const image = await page.screenshot({ fullPage: false, type: 'png' });
  expect(image.length).toBeGreaterThan(1000);
  if (process.env.CONSOLE_SCREENSHOTS === '1') {
    const dir = path.join(root, 'docs/console');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `${name}.png`), image);
  }
}
