import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { COST_TABLE_END, COST_TABLE_START, readmeCostTable } from '../infra/cost-report';

/**
 * `npm run cost`: synthesizes the stack for each priced profile, prices what each template
 * creates with infra/prices.json and prints the table; `-- --write` puts it into README.md
 * between its markers (test/docs/cost.test.ts fails when the README's table is stale).
 */
const table = readmeCostTable();
if (process.argv.includes('--write')) {
  const readme = path.join(import.meta.dirname, '..', 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = text.indexOf(COST_TABLE_START);
  const end = text.indexOf(COST_TABLE_END);
  if (start < 0 || end < start) throw new Error('README.md has no cost table markers');
  writeFileSync(
    readme,
    `${text.slice(0, start + COST_TABLE_START.length)}\n\n${table}\n\n${text.slice(end)}`,
  );
  console.log('README.md: cost table written');
} else console.log(table);
