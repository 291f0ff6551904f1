import { beforeEach, describe, expect, it } from 'vitest';
import {
  finishRuns,
  insertManualRun,
  insertClaimedRuns,
  LOST_RUN_ERROR,
  markLostRuns,
  releaseRuns,
  renewLeases,
} from '../lib/engine/run-state';
import { createTestDatabase } from './helpers/database';
import { insertJob } from './helpers/jobs';

// Each run state transition, once, on real PostgreSQL (the sweep tests cover them in use).
const { sql } = await createTestDatabase();

beforeEach(async () => {
  await sql`truncate cron_job cascade`;
});

const slot = new Date('2026-11-28T10:05:00Z');
const next = new Date('2026-11-28T10:10:00Z');
const now = new Date('2026-11-28T10:05:02Z');
const deadline = new Date('2026-11-28T10:06:02Z');

async function runs(jobId: string) {
  return sql<{ id: string; status: string; trigger: string; deadline: Date | null }[]>`
    select id, status, trigger, deadline from cron_job_run where job_id = ${jobId}
    order by started_at, id`;
}

async function jobRow(jobId: string) {
  const [row] = await sql<
    { next_run: Date | null; is_active: boolean; metadata: Record<string, unknown> }[]
  >`select next_run, is_active, metadata from cron_job where id = ${jobId}`;
  return row!;
}

async function claimSlot(jobId: string, status: 'running' | 'skipped' = 'running') {
  return sql.begin((tx) =>
    insertClaimedRuns(
      tx,
      [
        {
          job_id: jobId,
          scheduled_for: slot,
          attempt: 1,
          trigger: 'schedule',
          next_run: next,
          queued_for: null,
          lane: 0,
          triggered_by: null,
          status,
          superseded: null,
          consecutive_failures: null,
          pause_reason: null,
        },
      ],
      { now, deadline },
    ),
  );
}

describe('run state transitions', () => {
  it('insertClaimedRuns: one run per slot, the job moves on; a second claim of the slot inserts nothing', async () => {
    const id = await insertJob(sql, { next_run: slot });
    const [run] = await claimSlot(id);
    expect(run).toMatchObject({ job_id: id, status: 'running' });
    expect((await jobRow(id)).next_run).toEqual(next);
    expect(await claimSlot(id)).toEqual([]);
    expect(await runs(id)).toEqual([
      { id: run!.id, status: 'running', trigger: 'schedule', deadline },
    ]);
  });

  it('insertClaimedRuns: a skipped slot is finished at once and has no lease', async () => {
    const id = await insertJob(sql, { next_run: slot });
    await claimSlot(id, 'skipped');
    expect(await runs(id)).toEqual([
      { id: expect.any(String), status: 'skipped', trigger: 'schedule', deadline: null },
    ]);
  });

  it('insertManualRun: null while a run of the job is in progress', async () => {
    const id = await insertJob(sql);
    const first = await sql.begin((tx) => insertManualRun(tx, id, deadline));
    expect(first).toEqual({ id: expect.any(String) });
    expect(await sql.begin((tx) => insertManualRun(tx, id, deadline))).toBeNull();
  });

  it('finishRuns: finishes a running run once and counts it; a repeated call changes nothing', async () => {
    const id = await insertJob(sql, { next_run: slot });
    const [run] = await claimSlot(id);
    const outcome = {
      run_id: run!.id,
      status: 'error' as const,
      finished_at: now,
      duration_ms: 5,
      result: null,
      error: 'boom',
    };
    expect(await finishRuns(sql, [outcome])).toEqual([{ id: run!.id }]);
    expect(await finishRuns(sql, [outcome])).toEqual([]);
    // No result is SQL NULL (what `where result is null` finds), not the JSON value null.
    const [stored] = await sql<{ absent: boolean }[]>`
      select result is null as absent from cron_job_run where id = ${run!.id}`;
    expect(stored).toEqual({ absent: true });
    expect((await jobRow(id)).metadata).toMatchObject({
      execution_count: 1,
      error_count: 1,
      last_error: 'boom',
    });
  });

  it('markLostRuns: only runs whose lease ran out; a lost run cannot be finished afterwards', async () => {
    const id = await insertJob(sql, { next_run: slot });
    const [run] = await claimSlot(id);
    expect(await markLostRuns(sql, deadline)).toEqual([]);
    const later = new Date(deadline.getTime() + 1);
    expect(await markLostRuns(sql, later)).toEqual([{ job_id: id, run_id: run!.id }]);
    const finished = await finishRuns(sql, [
      {
        run_id: run!.id,
        status: 'success',
        finished_at: later,
        duration_ms: 1,
        result: null,
        error: null,
      },
    ]);
    expect(finished).toEqual([]);
    const [row] = await sql`select status, error from cron_job_run where id = ${run!.id}`;
    expect(row).toEqual({ status: 'lost', error: LOST_RUN_ERROR });
    expect((await jobRow(id)).metadata).toMatchObject({ execution_count: 1, error_count: 1 });
  });

  it('renewLeases: extends running runs only', async () => {
    const id = await insertJob(sql, { next_run: slot });
    const [run] = await claimSlot(id);
    const extended = new Date(deadline.getTime() + 60_000);
    await renewLeases(sql, [run!.id], extended);
    expect((await runs(id))[0]!.deadline).toEqual(extended);
    expect(await markLostRuns(sql, new Date(deadline.getTime() + 1))).toEqual([]);
  });

  it('releaseRuns: an unstarted run goes and its job is due at that slot again; finished runs stay', async () => {
    const id = await insertJob(sql, { next_run: slot });
    const [run] = await claimSlot(id);
    await releaseRuns(sql, [run!.id]);
    expect(await runs(id)).toEqual([]);
    expect(await jobRow(id)).toMatchObject({ next_run: slot, is_active: true });

    const [again] = await claimSlot(id);
    await finishRuns(sql, [
      {
        run_id: again!.id,
        status: 'success',
        finished_at: now,
        duration_ms: 1,
        result: null,
        error: null,
      },
    ]);
    await releaseRuns(sql, [again!.id]);
    expect(await runs(id)).toHaveLength(1);
    expect((await jobRow(id)).next_run).toEqual(next);
  });
});
