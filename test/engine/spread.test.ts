import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sweep } from '../../lib/engine/sweep';
import { createRegistry } from '../../lib/executors/registry';
import { defineExecutor } from '../../lib/executors/types';
import { createEngineTestDatabase } from '../helpers/engine';
import { insertJob } from '../helpers/jobs';

// A spread job through sweep(): it runs at slot + its offset (cron_spread_offset_ms), its runs keep
// the nominal slot, its lag is counted from when it became due, and a slot given back is due
// again at slot + offset, not at the bare slot.

const { sql, deps } = await createEngineTestDatabase();
const at = (iso: string) => new Date(iso);
const plus = (date: Date, ms: number) => new Date(date.getTime() + ms);

/** A job with `spread_seconds`, due for `slot` (next_run = slot + its offset); its offset. */
async function spreadJob(slot: Date, spreadSeconds: number, fixture = {}) {
  const id = await insertJob(sql, { schedule: 'every_15_minutes', next_run: slot, ...fixture });
  const [row] = await sql<{ offset: number }[]>`
    update cron_job set spread_seconds = ${spreadSeconds},
      next_run = next_run + cron_spread_offset_ms(id, ${spreadSeconds}) * interval '1 millisecond'
    where id = ${id}
    returning cron_spread_offset_ms(id, ${spreadSeconds}) as offset`;
  return { id, offset: row!.offset };
}

async function job(id: string) {
  const [row] = await sql<{ next_run: Date | null; missed_count: number }[]>`
    select next_run, missed_count from cron_job where id = ${id}`;
  return row!;
}

async function runsOf(id: string) {
  return sql<{ scheduled_for: Date; status: string; started_at: Date; missed_count: number }[]>`
    select scheduled_for, status, started_at, missed_count from cron_job_run
    where job_id = ${id} order by scheduled_for`;
}

describe('a spread job (spread_seconds)', () => {
  const slot = at('2026-12-01T10:00:00Z');

  it('runs at slot + offset for its nominal slot, lag counted from slot + offset, next_run the next slot + offset', async () => {
    const { id, offset } = await spreadJob(slot, 600);
    // An offset of 0 would not tell slot and slot + offset apart.
    expect(offset).toBeGreaterThan(1_000);
    expect(offset).toBeLessThan(600_000);

    // A moment before slot + offset: not due.
    expect(await sweep(deps, { now: () => plus(slot, offset - 1) })).toMatchObject({
      executed: 0,
    });
    const now = plus(slot, offset + 5_000);
    const summary = await sweep(deps, { now: () => now });
    expect(summary).toMatchObject({ executed: 1, succeeded: 1, max_lag_ms: 5_000 });
    const [run] = await runsOf(id);
    expect(run).toMatchObject({ scheduled_for: slot, status: 'success', started_at: now });
    expect((await job(id)).next_run).toEqual(plus(at('2026-12-01T10:15:00Z'), offset));
  });

  it('after an outage runs the latest slot whose slot + offset has passed, and records the others as one missed run', async () => {
    const { id, offset } = await spreadJob(slot, 600);
    // 10:45 + offset has passed by a second; 11:00 + offset has not.
    const now = plus(at('2026-12-01T10:45:00Z'), offset + 1_000);
    expect(await sweep(deps, { now: () => now })).toMatchObject({ executed: 1, max_lag_ms: 1_000 });
    expect(await runsOf(id)).toMatchObject([
      { scheduled_for: slot, status: 'missed', missed_count: 3 },
      { scheduled_for: at('2026-12-01T10:45:00Z'), status: 'success' },
    ]);
    expect(await job(id)).toEqual({
      next_run: plus(at('2026-12-01T11:00:00Z'), offset),
      missed_count: 3,
    });
  });

  it('gives a slot it could not start back due at slot + offset', async () => {
    // The sweep's clock moves only when a job runs (as in test/sweep.test.ts).
    let clock = at('2026-12-01T11:00:00Z');
    const registry = createRegistry([
      defineExecutor({
        name: 'takesTwoSeconds',
        description: 'moves the test clock on by two seconds',
        configSchema: z.object({}),
        run: async () => {
          clock = plus(clock, 2_000);
          return { ok: true };
        },
      }),
    ]);
    const first = await spreadJob(slot, 600, {
      function_name: 'takesTwoSeconds',
      timeout_seconds: 2,
    });
    const second = await spreadJob(slot, 600, {
      function_name: 'takesTwoSeconds',
      timeout_seconds: 2,
    });
    // Both are due whatever their offsets (below 600 s); 5.5 s left: room for one run.
    clock = plus(slot, 600_000);
    const summary = await sweep(
      { ...deps, registry },
      { concurrency: 1, now: () => clock, deadline: plus(clock, 5_500) },
    );
    expect(summary).toMatchObject({ executed: 1, deferred: 1 });
    const [ran] = await sql<{ job_id: string }[]>`select job_id from cron_job_run`;
    const given = ran!.job_id === first.id ? second : first;
    expect((await job(given.id)).next_run).toEqual(plus(slot, given.offset));
  });
});
