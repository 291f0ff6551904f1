import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { silentLog } from '../lib/logger';
import { sweep } from '../lib/engine/sweep';
import { createRegistry } from '../lib/executors/registry';
import { defineExecutor } from '../lib/executors/types';
import { createTestDatabase } from './helpers/database';
import { insertJobs } from './helpers/jobs';

const { sql } = await createTestDatabase();

describe('fair claiming across tenants', () => {
  it("starts all of tenant B's 10 due jobs within the first claim batch although tenant A has 20,000 older ones", async () => {
    const started: (string | null)[] = [];
    const registry = createRegistry([
      defineExecutor({
        name: 'noop',
        description: 'notes which tenant started',
        configSchema: z.object({}).loose(),
        run: async ({ tenantId }) => {
          started.push(tenantId);
          return null;
        },
      }),
    ]);
    // A's slots are all older than B's: a plain oldest-first claim would run B last.
    await insertJobs(sql, 20_000, {
      name: 'a',
      tenant_id: 'tenant-a',
      next_run: new Date(Date.now() - 3_600_000),
    });
    await insertJobs(sql, 10, {
      name: 'b',
      tenant_id: 'tenant-b',
      next_run: new Date(Date.now() - 60_000),
    });
    const claimBatchSize = 1_000;

    const summary = await sweep(
      { sql, registry, log: silentLog },
      { concurrency: 4, claimBatchSize },
    );

    expect(summary).toMatchObject({ executed: 20_010, succeeded: 20_010 });
    expect(started).toHaveLength(20_010);
    const positions = started.flatMap((tenant, index) => (tenant === 'tenant-b' ? [index] : []));
    expect(positions).toHaveLength(10);
    expect(Math.max(...positions)).toBeLessThan(claimBatchSize);
    const [runs] = await sql<{ runs: number; jobs: number }[]>`
      select count(*)::int as runs, count(distinct job_id)::int as jobs from cron_job_run
      where status = 'success'`;
    expect(runs).toEqual({ runs: 20_010, jobs: 20_010 });
  });
});
