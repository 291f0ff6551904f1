import type { AppContext } from '../app-context';
import type { Sql } from '../db';
import type { ExecutorRegistry } from '../executors/registry';
import type { Log } from '../logger';
import { sweep } from '../engine/sweep';
import { syncTriggers } from '../engine/triggers';
import { createTimerTriggers } from './timer-triggers';
import type { RunQueue } from '../engine/run-queue';

export const LOCAL_SWEEP_CONCURRENCY = 4;

/**
 * The application as `npm start` runs it: exact-time triggers are in-process timers that run the
 * slot through the engine, as EventBridge Scheduler does with `run-job` in AWS.
 */
export async function createLocalApp(options: {
  sql: Sql;
  registry: ExecutorRegistry;
  log: Log;
  sweepIntervalSeconds: number;
  /** Where run-now hands runs (WORKERS=N); absent: they start in this process. */
  runQueue?: RunQueue | undefined;
}): Promise<AppContext & { close(): void }> {
  const { sql, log } = options;
  const triggers = createTimerTriggers((jobId, slot) =>
    sweep(app, { concurrency: 1, only: { jobId, slot } }).catch((error: unknown) =>
      log.error('exact-time run failed', { job_id: jobId, error: (error as Error).message }),
    ),
  );
  const app: AppContext = {
    sql,
    registry: options.registry,
    log,
    triggers,
    runQueue: options.runQueue,
    settings: {
      sweepIntervalSeconds: options.sweepIntervalSeconds,
      sweepConcurrency: LOCAL_SWEEP_CONCURRENCY,
    },
  };
  // Timers die with the process: forget what an earlier run armed, then arm everything anew.
  await sql`update cron_job set trigger_armed_for = null where trigger_armed_for is not null`;
  for (;;) {
    const synced = await syncTriggers(app);
    if (synced.failed > 0 || synced.armed + synced.disarmed === 0) break;
  }
  return { ...app, close: () => triggers.close() };
}
