import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLog } from '../../lib/logger';
import { sweep } from '../../lib/engine/sweep';
import { QUEUED_LEASE_SECONDS } from '../../lib/engine/run-queue';
import { createPgRunQueue } from '../../lib/local/pg-run-queue';
import { createTestDatabase } from '../helpers/database';
import { insertJobs, testRegistry } from '../helpers/jobs';
import { figures, waitFor, YEARLY } from './helpers';

const JOBS = 20_000;
const WORKERS = 4;
const CONCURRENCY = 16;
const WORKER = fileURLToPath(new URL('../helpers/queue-worker-process.ts', import.meta.url));

const { sql, url } = await createTestDatabase();
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      WORKER_CONCURRENCY: String(CONCURRENCY),
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

async function counts() {
  const [row] = await sql<{ success: number; running: number; queued: number }[]>`
    select
      (select count(*)::int from cron_job_run where status = 'success') as success,
      (select count(*)::int from cron_job_run where status = 'running') as running,
      (select count(*)::int from cron_run_queue) as queued`;
  return row!;
}

describe('dispatcher and local worker processes', () => {
  it('20,000 due jobs of 20 ms, 4 worker processes, one SIGKILLed mid-way: every slot runs exactly once (the killed worker’s after their lease), nothing is left running, the dispatcher runs none itself', async () => {
    await insertJobs(sql, JOBS, {
      name: 'fan-out',
      schedule: YEARLY,
      function_name: 'sleep',
      metadata: { ms: 20 },
    });
    const workers = Array.from({ length: WORKERS }, startWorker);
    const started = performance.now();

    // The dispatcher: claims every due slot and hands the runs to the queue.
    const summary = await sweep(
      { sql, registry: testRegistry, log: silentLog },
      { concurrency: 4, dispatch: { queue: createPgRunQueue(sql), when: 'always' } },
    );
    expect(summary).toMatchObject({ executed: 0, dispatched: JOBS, succeeded: 0 });

    await waitFor(
      'a quarter of the runs to finish',
      async () => (await counts()).success >= JOBS / 4,
      180_000,
    );
    const victim = workers[0]!;
    victim.kill('SIGKILL');
    await exited(victim);

    // The others drain the queue; then they stop cleanly, finishing what they hold.
    await waitFor('the queue to drain', async () => (await counts()).queued === 0, 180_000);
    for (const worker of workers.slice(1)) worker.kill('SIGTERM');
    await Promise.all(workers.map(exited));
    const beforeRecovery = await counts();
    // What is still running was picked up by the killed worker: at most its concurrency in flight,
    // plus runs it had finished whose outcomes were still waiting in its write batch (no more than
    // one batch of its concurrency): those are declared lost too, and none runs twice.
    expect(beforeRecovery.running).toBeLessThanOrEqual(2 * CONCURRENCY);
    expect(beforeRecovery.success + beforeRecovery.running).toBe(JOBS);

    // A sweep once their lease has run out (the clock moved, not waited for) declares them lost.
    const recovery = await sweep(
      { sql, registry: testRegistry, log: silentLog },
      { now: () => new Date(Date.now() + (QUEUED_LEASE_SECONDS + 60) * 1000) },
    );
    expect(recovery).toMatchObject({ lost: beforeRecovery.running, executed: 0 });

    const [final] = await sql<
      {
        runs: number;
        jobs: number;
        success: number;
        lost: number;
        running: number;
        counted: number;
      }[]
    >`
      select count(*)::int as runs, count(distinct job_id)::int as jobs,
        count(*) filter (where status = 'success')::int as success,
        count(*) filter (where status = 'lost')::int as lost,
        count(*) filter (where status = 'running')::int as running,
        (select count(*)::int from cron_job where (metadata->>'execution_count')::int = 1) as counted
      from cron_job_run`;
    expect(final).toEqual({
      runs: JOBS,
      jobs: JOBS,
      success: beforeRecovery.success,
      lost: beforeRecovery.running,
      running: 0,
      counted: JOBS,
    });
    // Every run ran in a worker process, none in the dispatcher (this process).
    const pids = await sql<{ pid: number; runs: number }[]>`
      select (result->>'pid')::int as pid, count(*)::int as runs from cron_job_run
      where status = 'success' group by 1 order by 1`;
    const workerPids = workers.map((worker) => worker.pid);
    expect(pids.every((row) => workerPids.includes(row.pid))).toBe(true);
    expect(pids.map((row) => row.pid)).not.toContain(process.pid);
    figures(
      `fan-out: ${JOBS} due jobs of 20 ms dispatched to ${WORKERS} worker processes ` +
        `(concurrency ${CONCURRENCY}), one SIGKILLed after ${JOBS / 4} runs: ` +
        `${final!.success} succeeded (${pids.map((row) => row.runs).join(' / ')} per worker), ` +
        `${final!.lost} declared lost after their lease, 0 ran twice, 0 left running; ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 400_000);
});
