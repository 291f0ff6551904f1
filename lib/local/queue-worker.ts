import type { Sql } from '../db';
import type { ExecutorRegistry } from '../executors/registry';
import type { Log } from '../logger';
import { RunWorker, type WorkerCounts } from '../engine/worker';
import type { RecorderOptions } from '../engine/run-recorder';
import { RUN_QUEUE_CHANNEL, takeQueuedRuns } from './pg-run-queue';

// A missed NOTIFY (a reconnect) costs at most this long.
const POLL_MS = 1_000;

/**
 * One local worker: takes runs from the PostgreSQL run queue and runs up to `concurrency` at a
 * time until `signal` aborts, then lets the runs in progress finish and writes their outcomes.
 * It takes more only when half its slots are free (or all are), so takes come in batches.
 */
export async function runQueueWorker(options: {
  sql: Sql;
  registry: ExecutorRegistry;
  log: Log;
  concurrency: number;
  signal: AbortSignal;
  recorder?: RecorderOptions;
}): Promise<WorkerCounts> {
  const { sql, concurrency, signal } = options;
  const worker = new RunWorker(options, options.recorder);
  let wake = () => {};
  const listening = await sql.listen(RUN_QUEUE_CHANNEL, () => wake());
  const inFlight = new Set<Promise<void>>();
  const threshold = Math.max(1, Math.floor(concurrency / 2));
  try {
    while (!signal.aborted) {
      const room = concurrency - inFlight.size;
      if (room >= threshold || inFlight.size === 0) {
        const picked = await takeQueuedRuns(sql, room, worker.pickUpTimes()).catch(
          (error: unknown) => {
            // The database is away: runs in progress go on; try again after the poll interval.
            options.log.warn('could not take queued runs', { error: (error as Error).message });
            return null;
          },
        );
        if (picked === null) {
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
          continue;
        }
        for (const run of picked) {
          const running: Promise<void> = worker.run(run).finally(() => {
            inFlight.delete(running);
            if (concurrency - inFlight.size >= threshold) wake();
          });
          inFlight.add(running);
        }
        if (picked.length === room) continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, POLL_MS);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          wake = () => {};
          resolve();
        }
        wake = done;
        signal.addEventListener('abort', done);
      });
    }
  } finally {
    await Promise.allSettled(inFlight);
    await listening.unlisten().catch(() => {});
    await worker.close();
  }
  return worker.counts;
}
