import { describe, expect, it } from 'vitest';
import { connect } from '../../lib/db';
import type { RunQueue } from '../../lib/engine/run-queue';
import { sweep } from '../../lib/engine/sweep';
import type { TriggerPort, TriggerRequest } from '../../lib/engine/triggers';
import { createEngineTestDatabase } from '../helpers/engine';
import { insertJob } from '../helpers/jobs';
import { capturingLog } from '../helpers/log';

// What a sweep does besides running due slots, through sweep() and the tables: it resumes jobs
// whose pause has ended and makes `after:` jobs due, and it keeps the last sweep's summary; an
// exact-time trigger's sweep (`only`) runs its one slot and does none of that. It brings exact-time
// triggers in step (a trigger's sweep: its job's only). A dispatching sweep records a job whose
// schedule cannot be computed itself. A sweep that cannot reach the database fails, logged.

const { sql, url, deps } = await createEngineTestDatabase();
const at = (iso: string) => new Date(iso);
const slot = at('2026-12-01T10:00:00Z');
const now = at('2026-12-01T10:00:05Z');

/** A job paused until 09:30 (so due to resume), an upstream job due at 10:00 and its dependent. */
async function scene() {
  const paused = await insertJob(sql, { name: 'paused', schedule: 'every_15_minutes' });
  await sql`update cron_job set is_active = false, next_run = null, paused_at = ${at('2026-12-01T09:00:00Z')},
    paused_by = 'ops', paused_reason = 'maintenance', paused_until = ${at('2026-12-01T09:30:00Z')}
    where id = ${paused}`;
  const upstream = await insertJob(sql, { name: 'upstream', next_run: slot });
  const dependent = await insertJob(sql, { name: 'dependent' });
  await sql`update cron_job set schedule = ${`after:${upstream}`}, after_job_ids = ${[upstream]}::uuid[],
    next_run = null where id = ${dependent}`;
  await sql`update cron_job set has_dependents = true where id = ${upstream}`;
  await sql`delete from cron_sweep_state`;
  return { paused, upstream, dependent };
}

async function job(id: string) {
  const [row] = await sql<{ is_active: boolean; next_run: Date | null; paused_at: Date | null }[]>`
    select is_active, next_run, paused_at from cron_job where id = ${id}`;
  return row!;
}

async function runs(id: string) {
  return sql<{ trigger: string; status: string }[]>`
    select trigger, status from cron_job_run where job_id = ${id} order by scheduled_for`;
}

async function lastSweep() {
  return sql<{ summary: Record<string, unknown> }[]>`select summary from cron_sweep_state`;
}

describe('a sweep', () => {
  it('resumes a job whose pause has ended, runs a dependent of a success, and keeps its summary', async () => {
    const { paused, upstream, dependent } = await scene();
    // Resumed from its first slot after paused_until (09:45), it runs in the same sweep: its
    // latest due slot (10:00), 09:45 recorded missed. The upstream job runs too.
    expect(await sweep(deps, { now: () => now })).toMatchObject({ executed: 2, succeeded: 2 });
    expect(await job(paused)).toEqual({
      is_active: true,
      next_run: at('2026-12-01T10:15:00Z'),
      paused_at: null,
    });
    expect(await runs(paused)).toEqual([
      { trigger: 'schedule', status: 'missed' },
      { trigger: 'schedule', status: 'success' },
    ]);
    // The upstream success made the dependent due: the next sweep runs it.
    expect(await sweep(deps, { now: () => at('2026-12-01T10:00:10Z') })).toMatchObject({
      executed: 1,
      succeeded: 1,
    });
    expect(await runs(upstream)).toEqual([{ trigger: 'schedule', status: 'success' }]);
    expect(await runs(dependent)).toEqual([{ trigger: 'dependency', status: 'success' }]);
    expect(await lastSweep()).toEqual([
      { summary: expect.objectContaining({ executed: 1, succeeded: 1, failed: 0 }) },
    ]);
  });

  it('for an exact-time trigger runs its one slot only: no resume, no dependent made due, no summary kept', async () => {
    const { paused, upstream, dependent } = await scene();
    const summary = await sweep(deps, { now: () => now, only: { jobId: upstream, slot } });
    expect(summary).toMatchObject({ executed: 1, succeeded: 1 });
    expect(await job(paused)).toMatchObject({ is_active: false, next_run: null });
    expect((await job(dependent)).next_run).toBeNull();
    expect(await lastSweep()).toEqual([]);
    // The regular sweep after it does both.
    await sweep(deps, { now: () => now });
    expect((await job(paused)).is_active).toBe(true);
    expect(await runs(dependent)).toEqual([{ trigger: 'dependency', status: 'success' }]);
  });

  it('fails, logged as sweep failed, when the database cannot be reached', async () => {
    const closed = connect(url, { max: 1 });
    await closed.end();
    const { log, lines } = capturingLog();
    await expect(sweep({ ...deps, sql: closed, log })).rejects.toThrow();
    expect(lines).toEqual([
      {
        level: 'error',
        message: 'sweep failed',
        extra: expect.objectContaining({ error: expect.any(String), executed: 0, lost: 0 }),
      },
    ]);
  });

  it('brings exact-time triggers in step after it: every precise job, or only its own job for a trigger', async () => {
    const [first, second] = await Promise.all(
      ['first', 'second'].map((name) =>
        insertJob(sql, { name, schedule: 'every_15_minutes', next_run: slot }),
      ),
    );
    await sql`update cron_job set precise = true`;
    const armed: TriggerRequest[] = [];
    const triggers: TriggerPort = {
      arm: async (request) => void armed.push(request),
      disarm: async () => {},
    };
    const summary = await sweep(
      { ...deps, triggers },
      { now: () => now, only: { jobId: first!, slot } },
    );
    expect(summary.triggers).toEqual({ armed: 1, disarmed: 0, failed: 0 });
    expect(armed).toEqual([
      { job_id: first, next_run: at('2026-12-01T10:15:00Z'), timezone: 'UTC' },
    ]);
    armed.length = 0;
    expect((await sweep({ ...deps, triggers }, { now: () => now })).triggers).toEqual({
      armed: 1,
      disarmed: 0,
      failed: 0,
    });
    expect(armed).toEqual([
      { job_id: second, next_run: at('2026-12-01T10:15:00Z'), timezone: 'UTC' },
    ]);
    // Without triggers configured, the summary has no trigger counts.
    expect(await sweep(deps, { now: () => now })).not.toHaveProperty('triggers');
  });

  it('dispatching, records a job whose schedule cannot be computed itself and sends the others', async () => {
    const good = await insertJob(sql, { name: 'good', next_run: slot });
    const broken = await insertJob(sql, { name: 'broken', next_run: slot });
    await sql`update cron_job set schedule = 'every_fortnight' where id = ${broken}`;
    const sent: string[] = [];
    const queue: RunQueue = { send: async (ids) => void sent.push(...ids) };
    const summary = await sweep(deps, { now: () => now, dispatch: { queue, when: 'always' } });
    expect(summary).toMatchObject({ dispatched: 1, executed: 1, failed: 1 });
    const rows = await sql<{ id: string; job_id: string; status: string; error: string | null }[]>`
      select id, job_id, status, error from cron_job_run`;
    expect(sent).toEqual([rows.find((row) => row.job_id === good)!.id]);
    expect(rows.find((row) => row.job_id === broken)).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/^schedule cannot be computed, job deactivated: /),
    });
    expect(await job(broken)).toMatchObject({ is_active: false, next_run: null });
  });
});
