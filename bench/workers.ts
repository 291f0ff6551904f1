import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { connect, type Sql } from '../lib/db';
import { sweep } from '../lib/engine/sweep';
import { LOCAL_SWEEP_CONCURRENCY } from '../lib/local/app';
import { createPgRunQueue } from '../lib/local/pg-run-queue';
import { startWorkerProcesses } from '../lib/local/worker-processes';
import { silentLog } from '../lib/logger';
import { benchRegistry } from './executors';
import { BENCH_SCHEDULE } from './database';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
const JOB_NAME = 'bench-workers';
const POLL_MS = 100;
// Time to make the jobs due (one update of every row) before their slot comes.
const SETUP_MS = 15_000;

export interface WorkersResult {
  jobs: number;
  workers: number;
  /** Runs each worker process takes at once (WORKER_CONCURRENCY; npm start's default). */
  workerConcurrency: number;
  /** From the sweep's start to the last run's outcome written, milliseconds. */
  drainMs: number;
  jobsPerSecond: number;
  /** The dispatcher's part: from the sweep's start to its return (every run queued). */
  dispatchMs: number;
  /** Latest and median start of a run after its slot (the sweep began at the slot), ms. */
  latestStartMs: number;
  medianStartMs: number;
  /** The 1-minute load average when the drain ended (other processes included). */
  loadAverage: number;
}

/**
 * The 100,000-due-at-once drain of the local fan-out, as `npm start` with WORKERS=8 runs it: the
 * local stack's dispatcher (one sweep with dispatch `always`, the local run queue: a table and
 * NOTIFY) and `workers` separate worker processes (lib/local/worker-processes.ts, the benchmark's
 * no-op executor). Every job is due at one slot, the moment the sweep starts (a midnight of
 * `daily` jobs). Measures the drain rate and how late the last run started after its slot, then
 * verifies every slot ran exactly once (one `success` run per job for that slot, execution_count
 * 1, nothing left running or queued) and removes its jobs.
 */
export async function drainWithWorkers(
  admin: Sql,
  url: string,
  options: { jobs: number; workers: number; workerConcurrency: number; limitMs: number },
): Promise<WorkersResult> {
  const { jobs, workers: count } = options;
  await admin`
    insert into cron_job (name, schedule, timezone, function_name, is_active, metadata, next_run)
    select ${JOB_NAME} || ' ' || n, ${BENCH_SCHEDULE}, 'UTC', 'noop', true,
      '{"execution_count":0,"error_count":0,"last_execution_status":null,"last_error":null,"last_duration_ms":null}'::jsonb,
      now() + interval '1 day'
    from generate_series(1, ${jobs}) n`;
  await admin`vacuum analyze cron_job`;
  const workers = startWorkerProcesses(count, url, silentLog, {
    entry: WORKER_ENTRY,
    env: { WORKER_CONCURRENCY: String(options.workerConcurrency), LOG_LEVEL: 'error' },
  });
  // The dispatcher's pool, as the local stack's app pool.
  const sql = connect(url, { max: 10 });
  try {
    // Workers up (each LISTENs on the queue) before the slot comes.
    await waitUntil(
      options.limitMs,
      async () => {
        const [row] = await admin<{ listening: number }[]>`
          select count(distinct pid)::int as listening from pg_stat_activity
          where query ilike 'listen%'`;
        return row!.listening >= count;
      },
      'worker processes to listen',
    );
    // The slot is a whole second a little ahead, so the jobs are set up before it; the sweep
    // starts when it comes, as the local timer (or EventBridge) would at midnight.
    const slot = new Date(Math.ceil(Date.now() / 1000) * 1000 + SETUP_MS);
    await admin`update cron_job set next_run = ${slot} where name like ${JOB_NAME + ' %'}`;
    if (Date.now() >= slot.getTime())
      throw new Error('setting the slot took longer than the setup margin');
    await new Promise((resolve) => setTimeout(resolve, slot.getTime() - Date.now()));
    const started = performance.now();
    const summary = await sweep(
      { sql, registry: benchRegistry, log: silentLog },
      {
        concurrency: LOCAL_SWEEP_CONCURRENCY,
        dispatch: { queue: createPgRunQueue(sql), when: 'always' },
      },
    );
    const dispatchMs = performance.now() - started;
    if (summary.dispatched !== jobs || summary.executed !== 0) {
      throw new Error(
        `dispatcher: ${summary.dispatched} dispatched, ${summary.executed} run itself; expected ${jobs} and 0`,
      );
    }
    await waitUntil(
      options.limitMs,
      async () => {
        const [row] = await admin<{ running: number }[]>`
          select count(*)::int as running from cron_job_run where status = 'running'`;
        return row!.running === 0;
      },
      'every run to finish',
    );
    const [times] = await admin<{ last_finish: Date; latest: number; median: number }[]>`
      select max(finished_at) as last_finish,
        extract(epoch from max(started_at - scheduled_for)) * 1000 as latest,
        extract(epoch from percentile_cont(0.5) within group (order by started_at - scheduled_for)) * 1000 as median
      from cron_job_run r join cron_job j on j.id = r.job_id
      where j.name like ${JOB_NAME + ' %'}`;
    const drainMs = times!.last_finish.getTime() - slot.getTime();
    const loadAverage = os.loadavg()[0]!;
    await verifyOnce(admin, jobs, slot);
    return {
      jobs,
      workers: count,
      workerConcurrency: options.workerConcurrency,
      drainMs,
      jobsPerSecond: (jobs / drainMs) * 1000,
      dispatchMs,
      latestStartMs: times!.latest,
      medianStartMs: times!.median,
      loadAverage,
    };
  } finally {
    await workers.stop();
    await sql.end({ timeout: 5 });
    await admin`delete from cron_job where name like ${JOB_NAME + ' %'}`;
  }
}

/** Every job ran its slot exactly once, successfully; nothing else of it ran; nothing waits. */
async function verifyOnce(admin: Sql, jobs: number, slot: Date): Promise<void> {
  const [check] = await admin<
    { runs: number; jobs: number; at_slot: number; counted: number; queued: number }[]
  >`
    select count(*)::int as runs, count(distinct r.job_id)::int as jobs,
      count(*) filter (where r.status = 'success' and r.scheduled_for = ${slot})::int as at_slot,
      (select count(*)::int from cron_job
        where name like ${JOB_NAME + ' %'} and (metadata->>'execution_count')::int = 1) as counted,
      (select count(*)::int from cron_run_queue) as queued
    from cron_job_run r join cron_job j on j.id = r.job_id
    where j.name like ${JOB_NAME + ' %'}`;
  const expected = { runs: jobs, jobs, at_slot: jobs, counted: jobs, queued: 0 };
  if (JSON.stringify(check) !== JSON.stringify(expected)) {
    throw new Error(
      `workers drain not verified: ${JSON.stringify(check)}, expected ${JSON.stringify(expected)}`,
    );
  }
}

async function waitUntil(limitMs: number, check: () => Promise<boolean>, what: string) {
  const giveUp = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > giveUp) throw new Error(`gave up waiting for ${what} after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
