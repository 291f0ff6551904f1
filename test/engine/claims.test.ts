import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sweep } from '../../lib/engine/sweep';
import { createRegistry } from '../../lib/executors/registry';
import { defineExecutor } from '../../lib/executors/types';
import { createEngineTestDatabase } from '../helpers/engine';
import {
  gatedExecutor,
  gatedRegistry,
  insertJob,
  insertJobs,
  openGate,
  testExecutors,
} from '../helpers/jobs';
import { waitFor } from '../helpers/wait';

// What a claim decides, seen through sweep() and the tables: the slot after an exact-time trigger,
// the lease a new run gets, slots that already have a run, and the order jobs start in.

const { sql, deps } = await createEngineTestDatabase();

async function jobRow(id: string) {
  const [row] = await sql<
    { next_run: Date | null }[]
  >`select next_run from cron_job where id = ${id}`;
  return row!;
}

async function runsOf(id: string) {
  return sql<{ status: string; scheduled_for: Date | null }[]>`
    select status, scheduled_for from cron_job_run where job_id = ${id} order by scheduled_for`;
}

describe('an exact-time trigger', () => {
  const slot = new Date('2026-11-28T10:15:00Z');

  it('firing a moment before its slot moves next_run past that slot, so the slot runs once', async () => {
    const id = await insertJob(sql, { schedule: 'every_15_minutes', next_run: slot });
    const early = new Date(slot.getTime() - 2_000);
    const summary = await sweep(deps, { only: { jobId: id, slot }, now: () => early });
    expect(summary).toMatchObject({ executed: 1 });
    expect((await jobRow(id)).next_run).toEqual(new Date('2026-11-28T10:30:00Z'));
    // The regular sweep at the slot finds nothing due.
    expect(await sweep(deps, { now: () => slot })).toMatchObject({ executed: 0 });
    expect(await runsOf(id)).toHaveLength(1);
  });

  it('firing late moves next_run past now, not just past the slot', async () => {
    const id = await insertJob(sql, { schedule: 'every_15_minutes', next_run: slot });
    const late = new Date('2026-11-28T11:05:00Z');
    await sweep(deps, { only: { jobId: id, slot }, now: () => late });
    expect((await jobRow(id)).next_run).toEqual(new Date('2026-11-28T11:15:00Z'));
  });
});

describe('a claimed run', () => {
  it('gets a lease of leaseSeconds from the claim', async () => {
    const registry = createRegistry([...testExecutors, gatedExecutor]);
    const gate = randomUUID();
    const id = await insertJob(sql, { function_name: 'gated', metadata: { gate } });
    const sweeping = sweep({ ...deps, registry }, { leaseSeconds: 3_600 });
    try {
      const run = await waitFor(
        'the run to start',
        async () =>
          (
            await sql<{ lease_seconds: number }[]>`
              select extract(epoch from deadline - started_at)::float8 as lease_seconds
              from cron_job_run where job_id = ${id} and status = 'running'`
          )[0],
      );
      expect(run.lease_seconds).toBe(3_600);
    } finally {
      openGate(gate);
    }
    await sweeping;
  });

  it('is not claimed for a slot that already has a run; the job moves on to its next slot', async () => {
    const now = new Date('2026-11-28T10:07:30Z');
    const slot = new Date('2026-11-28T10:05:00Z');
    const id = await insertJob(sql, { next_run: slot });
    // The exact-time trigger got there first.
    await sql`insert into cron_job_run (job_id, scheduled_for, trigger, status, finished_at)
      values (${id}, ${slot}, 'schedule', 'success', ${now})`;
    expect(await sweep(deps, { now: () => now })).toMatchObject({ executed: 0, skipped: 0 });
    expect((await runsOf(id)).map((run) => run.status)).toEqual(['success']);
    expect((await jobRow(id)).next_run).toEqual(new Date('2026-11-28T10:10:00Z'));
  });
});

describe('start order', () => {
  function recordingRegistry(started: string[]) {
    return createRegistry([
      defineExecutor({
        name: 'noteStart',
        description: 'notes which job started',
        configSchema: z.object({ label: z.string() }),
        run: async ({ config }) => {
          started.push(config.label);
          return null;
        },
      }),
    ]);
  }

  it('starts the oldest due slot first', async () => {
    const started: string[] = [];
    // Inserted newest first, so a claim that followed the table's order would start it first.
    await insertJob(sql, {
      function_name: 'noteStart',
      metadata: { label: 'newer' },
      next_run: new Date(Date.now() - 60_000),
    });
    await insertJob(sql, {
      function_name: 'noteStart',
      metadata: { label: 'older' },
      next_run: new Date(Date.now() - 3_600_000),
    });
    await sweep({ ...deps, registry: recordingRegistry(started) }, { concurrency: 1 });
    expect(started).toEqual(['older', 'newer']);
  });

  it('takes turns across tenants after the first claim, each tenant in slot order', async () => {
    const started: string[] = [];
    const hourAgo = Date.now() - 3_600_000;
    // Inserted in the order a plain scan would return them: tenant a's backlog first.
    for (let i = 1; i <= 4; i++) {
      await insertJob(sql, {
        function_name: 'noteStart',
        tenant_id: 'a',
        metadata: { label: `a${i}` },
        next_run: new Date(hourAgo + i * 1_000),
      });
    }
    await insertJobs(sql, 1, {
      function_name: 'noteStart',
      tenant_id: 'b',
      metadata: { label: 'b1' },
      next_run: new Date(hourAgo + 10_000),
    });
    await sweep({ ...deps, registry: recordingRegistry(started) }, { concurrency: 1 });
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3', 'a4']);
  });
});

describe('claim sizes', () => {
  /** Sizes of the sweep's claims in order: runs of one claim share its clock reading. */
  async function claimSizes(options: Parameters<typeof sweep>[1]) {
    const base = Date.parse('2026-11-28T10:00:00Z');
    let reading = 0;
    // Every reading of the clock is a millisecond later, so no two claims share an instant.
    await sweep(deps, { ...options, now: () => new Date(base + reading++) });
    const groups = await sql<{ size: number }[]>`
      select count(*)::int as size from cron_job_run group by started_at order by started_at`;
    return groups.map((group) => group.size);
  }

  it('takes firstClaimSize jobs first, then four times as many each claim, up to claimBatchSize', async () => {
    await insertJobs(sql, 40, {
      schedule: 'cron:0 0 1 1 *',
      next_run: new Date('2026-11-28T09:00:00Z'),
    });
    expect(await claimSizes({ concurrency: 1, firstClaimSize: 1, claimBatchSize: 16 })).toEqual([
      1, 4, 16, 16, 3,
    ]);
  });

  it('claims the next batch while a full one still runs, so workers do not wait between batches', async () => {
    const gate = randomUUID();
    const held = await insertJob(sql, {
      function_name: 'gated',
      metadata: { gate },
      next_run: new Date(Date.now() - 120_000),
    });
    await insertJobs(sql, 4, { schedule: 'cron:0 0 1 1 *' });
    const sweeping = sweep(
      { ...deps, registry: gatedRegistry },
      { concurrency: 1, firstClaimSize: 1 },
    );
    try {
      // One worker, busy with the only job of the first claim: the second claim has to come
      // from the prefetch, not from a worker asking for more.
      await waitFor('the second claim while the first job runs', async () => {
        const [row] = await sql<{ claimed: number }[]>`
          select count(*)::int as claimed from cron_job_run`;
        return row!.claimed > 1;
      });
      const [first] = await sql<{ status: string }[]>`
        select status from cron_job_run where job_id = ${held}`;
      expect(first!.status).toBe('running');
    } finally {
      openGate(gate);
    }
    expect(await sweeping).toMatchObject({ executed: 5, succeeded: 5 });
  });

  it('takes `concurrency` jobs first when firstClaimSize is not given', async () => {
    await insertJobs(sql, 40, {
      schedule: 'cron:0 0 1 1 *',
      next_run: new Date('2026-11-28T09:00:00Z'),
    });
    expect(await claimSizes({ concurrency: 3, claimBatchSize: 24 })).toEqual([3, 12, 24, 1]);
  });
});
