import { beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { TransactionSql } from '../../lib/db';
import { createRegistry } from '../../lib/executors/registry';
import { defineExecutor } from '../../lib/executors/types';
import type { RunQueue } from '../../lib/engine/run-queue';
import { sweep } from '../../lib/engine/sweep';
import { withinTenantCaps } from '../../lib/engine/tenant-cap';
import { silentLog } from '../../lib/logger';
import { connect } from '../../lib/db';
import { createTestDatabase } from '../helpers/database';
import { insertJob, insertJobs, testRegistry } from '../helpers/jobs';

// The code under test connects as the app role, as the functions do (a missing grant fails).
const { sql, appSql, appUrl } = await createTestDatabase();
const deps = { sql: appSql, registry: testRegistry, log: silentLog };
// Dispatched runs stay `running` (no worker takes them here), so only the cap stops claims.
const nowhere: RunQueue = { send: async () => {} };
const dispatchAll = { queue: nowhere, when: 'always' } as const;

async function runningByTenant() {
  const rows = await sql<{ tenant_id: string; running: number }[]>`
    select j.tenant_id, count(*)::int as running
    from cron_job_run r join cron_job j on j.id = r.job_id
    where r.status = 'running' group by 1 order by 1`;
  return Object.fromEntries(rows.map((row) => [row.tenant_id, row.running]));
}

async function dueByTenant() {
  const rows = await sql<{ tenant_id: string; due: number }[]>`
    select tenant_id, count(*)::int as due from cron_job
    where next_run <= now() group by 1 order by 1`;
  return Object.fromEntries(rows.map((row) => [row.tenant_id, row.due]));
}

async function finishRunning(tenant: string, count: number) {
  await sql`
    update cron_job_run set status = 'success', finished_at = now(), deadline = null
    where id in (select r.id from cron_job_run r join cron_job j on j.id = r.job_id
      where j.tenant_id = ${tenant} and r.status = 'running' limit ${count})`;
}

beforeEach(async () => {
  await sql`truncate cron_job, cron_tenant_limit cascade`;
});

describe('per-tenant cap on runs in progress', () => {
  it('dispatches no more of a capped tenant than its cap; the rest stay due and go in later sweeps; other tenants are not held back', async () => {
    await insertJobs(sql, 30, { name: 'a', tenant_id: 'acme' });
    await insertJobs(sql, 10, { name: 'b', tenant_id: 'globex' });
    await insertJobs(sql, 5, { name: 'g', tenant_id: null });
    await sql`insert into cron_tenant_limit (tenant_id, max_concurrent_runs) values ('acme', 3)`;

    const first = await sweep(deps, { concurrency: 4, dispatch: dispatchAll });
    expect(first.dispatched).toBe(18);
    expect(await runningByTenant()).toEqual({ acme: 3, globex: 10, null: 5 });
    expect(await dueByTenant()).toEqual({ acme: 27 });
    // Left out means untouched: no run row of any status, no moved slot.
    const [untouched] = await sql<{ jobs: number }[]>`
      select count(*)::int as jobs from cron_job j
      where tenant_id = 'acme' and next_run <= now()
        and not exists (select from cron_job_run r where r.job_id = j.id)`;
    expect(untouched!.jobs).toBe(27);

    // At its cap, a sweep takes none of acme's.
    await sweep(deps, { concurrency: 4, dispatch: dispatchAll });
    expect(await runningByTenant()).toEqual({ acme: 3, globex: 10, null: 5 });

    // Two of acme's runs finish: the next sweep takes exactly two more.
    await finishRunning('acme', 2);
    const third = await sweep(deps, { concurrency: 4, dispatch: dispatchAll });
    expect(third.dispatched).toBe(2);
    expect(await runningByTenant()).toEqual({ acme: 3, globex: 10, null: 5 });
    expect(await dueByTenant()).toEqual({ acme: 25 });

    // Raising the cap (an operator's update) takes effect at the next claim.
    await sql`update cron_tenant_limit set max_concurrent_runs = 10 where tenant_id = 'acme'`;
    await sweep(deps, { concurrency: 4, dispatch: dispatchAll });
    expect(await runningByTenant()).toEqual({ acme: 10, globex: 10, null: 5 });
    expect(await dueByTenant()).toEqual({ acme: 18 });
  });

  it('holds when sweeps claim at the same moment: they take turns on the cap', async () => {
    await insertJobs(sql, 200, { name: 'a', tenant_id: 'acme' });
    await insertJobs(sql, 200, { name: 'b', tenant_id: 'globex' });
    await sql`
      insert into cron_tenant_limit (tenant_id, max_concurrent_runs)
      values ('acme', 7), ('globex', 50)`;
    // Each sweep its own pool, so their claims really overlap.
    const pools = Array.from({ length: 6 }, () => connect(appUrl, { max: 3 }));
    try {
      const summaries = await Promise.all(
        pools.map((pool) =>
          sweep(
            { ...deps, sql: pool },
            { concurrency: 4, claimBatchSize: 16, dispatch: dispatchAll },
          ),
        ),
      );
      expect(summaries.reduce((sum, summary) => sum + summary.dispatched, 0)).toBe(57);
    } finally {
      await Promise.all(pools.map((pool) => pool.end({ timeout: 5 })));
    }
    expect(await runningByTenant()).toEqual({ acme: 7, globex: 50 });
    expect(await dueByTenant()).toEqual({ acme: 193, globex: 150 });
  });

  it('counts runs executing in the sweep itself: never more of the tenant at once than its cap', async () => {
    let now = 0;
    let most = 0;
    const registry = createRegistry([
      defineExecutor({
        name: 'counted',
        description: 'notes how many of acme run at once',
        configSchema: z.object({}).loose(),
        run: async () => {
          now += 1;
          most = Math.max(most, now);
          // Yield a few times so the other runs of the sweep get going meanwhile.
          for (let i = 0; i < 20; i += 1) await new Promise((resolve) => setImmediate(resolve));
          now -= 1;
          return null;
        },
      }),
    ]);
    await insertJobs(sql, 12, { name: 'a', tenant_id: 'acme', function_name: 'counted' });
    await sql`insert into cron_tenant_limit (tenant_id, max_concurrent_runs) values ('acme', 2)`;

    // Each sweep runs what the cap lets it claim; the rest wait for the following sweeps.
    const executed: number[] = [];
    for (let i = 0; i < 12 && executed.reduce((sum, n) => sum + n, 0) < 12; i += 1) {
      executed.push((await sweep({ ...deps, registry }, { concurrency: 8 })).executed);
    }
    expect(executed.reduce((sum, n) => sum + n, 0)).toBe(12);
    expect(executed.length).toBeGreaterThan(1);
    expect(most).toBe(2);
    const [runs] = await sql<{ success: number; jobs: number }[]>`
      select count(*) filter (where status = 'success')::int as success,
        count(distinct job_id)::int as jobs from cron_job_run`;
    expect(runs).toEqual({ success: 12, jobs: 12 });
  });

  it('holds an exact-time trigger of a tenant at its cap: the slot stays due', async () => {
    await sql`insert into cron_tenant_limit (tenant_id, max_concurrent_runs) values ('acme', 1)`;
    await insertJobs(sql, 1, { name: 'a', tenant_id: 'acme' });
    await sweep(deps, { concurrency: 1, dispatch: dispatchAll });
    const slot = new Date(Math.ceil(Date.now() / 60_000) * 60_000 - 60_000);
    const precise = await insertJob(sql, { name: 'p', tenant_id: 'acme', next_run: slot });

    const held = await sweep(deps, { concurrency: 1, only: { jobId: precise, slot } });
    expect(held.executed).toBe(0);
    const [job] = await sql<
      { next_run: Date }[]
    >`select next_run from cron_job where id = ${precise}`;
    expect(job!.next_run).toEqual(slot);

    await finishRunning('acme', 1);
    const ran = await sweep(deps, { concurrency: 1, only: { jobId: precise, slot } });
    expect(ran).toMatchObject({ executed: 1, succeeded: 1 });
  });

  it('caps nothing without a row, and then asks the database nothing more', async () => {
    await insertJobs(sql, 12, { name: 'a', tenant_id: 'acme' });
    await insertJobs(sql, 12, { name: 'b', tenant_id: 'globex' });
    await sql`insert into cron_tenant_limit (tenant_id, max_concurrent_runs) values ('globex', 100)`;
    const summary = await sweep(deps, { concurrency: 4 });
    expect(summary).toMatchObject({ executed: 24, succeeded: 24 });
    expect(await dueByTenant()).toEqual({});

    // No capped tenant among the claims: no statement at all.
    const untouchable = new Proxy((() => {}) as unknown as TransactionSql, {
      apply: () => {
        throw new Error('queried the database');
      },
      get: () => {
        throw new Error('queried the database');
      },
    });
    const claims = [
      { job: { tenant_id: 'acme', capped: false }, status: 'running' },
      { job: { tenant_id: null, capped: false }, status: 'running' },
      { job: { tenant_id: 'globex', capped: true }, status: 'skipped' },
    ];
    expect(await withinTenantCaps(untouchable, claims)).toBe(claims);
  });
});
