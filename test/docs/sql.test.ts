import { SYSTEM_CALLER } from '../../lib/identity/caller';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { AppContext } from '../../lib/app-context';
import { deactivateDormantUsers } from '../../lib/executors/custom/deactivate-dormant-users';
import { createDemoSchema, loadDemoData } from '../../lib/demo-data';
import { seedDefaultJobs } from '../../lib/default-jobs';
import { builtInExecutors } from '../../lib/executors/built-ins';
import { createRegistry } from '../../lib/executors/registry';
import { defineExecutor } from '../../lib/executors/types';
import { getRun, runJobNow } from '../../lib/jobs/service';
import { waitFor } from '../helpers/wait';
import { silentLog } from '../../lib/logger';
import { sweep } from '../../lib/engine/sweep';
import { createTestDatabase } from '../helpers/database';
import { insertJob } from '../helpers/jobs';
import { fencedBlocks, markdownFiles, type FencedBlock } from './markdown';

// Every ```sql block of README.md and docs/ runs against a database that has had sweeps: the
// default jobs, the example executor's job, a job that fails, one that times out, one whose run
// was lost and one whose slot was skipped, over two sweeps and a manual run.
const { sql } = await createTestDatabase();
await createDemoSchema(sql);
await loadDemoData(sql);

const noConfig = z.strictObject({});
const registry = createRegistry([
  ...builtInExecutors,
  deactivateDormantUsers,
  defineExecutor({
    name: 'failing',
    description: 'always throws',
    configSchema: noConfig,
    run: async () => {
      throw new Error('the CRM API answered 503');
    },
  }),
  defineExecutor({
    name: 'slow',
    description: 'never finishes',
    configSchema: noConfig,
    run: () => new Promise(() => {}),
  }),
]);
const app: AppContext = {
  sql,
  registry,
  log: silentLog,
  settings: { sweepIntervalSeconds: 300, sweepConcurrency: 4 },
};

await seedDefaultJobs(sql, registry);
await sql`update cron_job set is_active = true, next_run = now() - interval '1 minute'`;
await insertJob(sql, {
  name: 'Dormant users acme',
  function_name: 'deactivateDormantUsers',
  tenant_id: 'acme',
});
await insertJob(sql, { name: 'Always fails', function_name: 'failing', schedule: 'hourly' });
await insertJob(sql, { name: 'Too slow', function_name: 'slow', timeout_seconds: 1 });
const crashed = await insertJob(sql, { name: 'Crashed', function_name: 'markUsersOffline' });
const busy = await insertJob(sql, { name: 'Busy', function_name: 'slow' });
// A run whose process died (lease expired) and one still in progress (lease ahead).
await sql`
  insert into cron_job_run (job_id, scheduled_for, trigger, status, started_at, deadline)
  values
    (${crashed}, now() - interval '15 minutes', 'schedule', 'running', now() - interval '15 minutes', now() - interval '5 minutes'),
    (${busy}, now() - interval '10 minutes', 'schedule', 'running', now() - interval '10 minutes', now() + interval '1 hour')`;

await sweep(app);
await sql`update cron_job set next_run = now() - interval '1 minute' where is_active`;
await sweep(app);
const [defaultJob] = await sql<{ id: string }[]>`
  select id from cron_job where name = 'Mark Users Offline' and tenant_id is null`;
const manual = await runJobNow(app, SYSTEM_CALLER, defaultJob!.id);
// Run-now queues the run; with no workers it starts in this process once the call returns.
await waitFor(
  'the manual run to finish',
  async () => (await getRun(app, SYSTEM_CALLER, defaultJob!.id, manual.id)).status !== 'running',
);

/** The column names a block documents: its `-- columns:` line, else its top-level select list. */
function documentedColumns(block: FencedBlock): string[] | undefined {
  const line = /^--\s*columns:\s*(.+)$/m.exec(block.content);
  if (line) return line[1]!.split(',').map((name) => name.trim());
  if (block.file.startsWith('docs/')) return undefined;
  return selectList(block.content);
}

/** Names PostgreSQL gives the items of the first top-level select list (aliases, bare columns). */
function selectList(text: string): string[] {
  const body = text.replace(/--.*$/gm, '');
  const start = /\bselect\b/i.exec(body);
  if (!start) return [];
  const items: string[] = [];
  let depth = 0;
  let current = '';
  let i = start.index + start[0].length;
  for (; i < body.length; i++) {
    const char = body[i]!;
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (depth === 0 && /^\s+from\b/i.test(body.slice(i))) break;
    if (depth === 0 && char === ',') {
      items.push(current);
      current = '';
    } else current += char;
  }
  items.push(current);
  return items.map((item) => {
    const alias = /\bas\s+("?)([\w?]+)\1\s*$/i.exec(item.trim());
    if (alias) return alias[2]!;
    const column = /(?:^|\.)(\w+)$/.exec(item.trim());
    return column ? column[1]! : '?column?';
  });
}

const blocks = markdownFiles().flatMap((file) =>
  fencedBlocks(file).filter((block) => block.lang === 'sql'),
);

describe('the database the queries run against', () => {
  it('has had sweeps with every kind of outcome', async () => {
    const rows = await sql<{ status: string; trigger: string }[]>`
      select distinct status, trigger from cron_job_run`;
    const seen = rows.map((row) => `${row.trigger}:${row.status}`);
    for (const kind of [
      'schedule:success',
      'schedule:error',
      'schedule:timeout',
      'schedule:lost',
      'schedule:skipped',
      'schedule:running',
      'manual:success',
    ]) {
      expect(seen).toContain(kind);
    }
  });
});

describe('SQL in the documentation', () => {
  it('there are queries to check', () => {
    expect(blocks.filter((block) => block.file.startsWith('docs/')).length).toBeGreaterThan(10);
  });

  it.each(blocks.map((block) => [`${block.file}:${block.line}`, block] as const))(
    '%s runs and returns the documented columns',
    async (_where, block) => {
      const columns = documentedColumns(block);
      expect(
        columns,
        'a sql block in docs/ needs a first line "-- columns: a, b, c"',
      ).toBeDefined();
      // Each query runs in a transaction that is rolled back, so none sees another's changes.
      const rollback = new Error('rollback');
      let result: { columns: Array<{ name: string }>; count: number } | undefined;
      await sql
        .begin(async (tx) => {
          result = (await tx.unsafe(block.content)) as never;
          throw rollback;
        })
        .catch((error: unknown) => {
          if (error !== rollback) throw error;
        });
      expect(result!.columns.map((column) => column.name)).toEqual(columns);
      if (/^--\s*rows:\s*none\s*$/m.test(block.content)) expect(result!.count).toBe(0);
    },
  );
});
