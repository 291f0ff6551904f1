import type { RunQueue } from './run-queue';
import { RunWorker, type WorkerDeps } from './worker';

/**
 * The run queue where there are no workers (npm start with WORKERS=0, tests): the runs start in
 * this process right after the caller returns (a run-now request has been answered by then), on a
 * RunWorker of their own. idle() waits for the runs in progress and writes their outcomes;
 * close() does that and stops the worker.
 */
export interface InProcessRunQueue extends RunQueue {
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function createInProcessRunQueue(deps: WorkerDeps): InProcessRunQueue {
  const worker = new RunWorker(deps);
  const inFlight = new Set<Promise<void>>();
  return {
    send: async (runIds) => {
      const running: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => worker.pickUpAndRun(runIds))
        .then(() => worker.flush())
        .catch((error: unknown) =>
          deps.log.error('queued runs failed to run', {
            run_ids: runIds,
            error: (error as Error).message,
          }),
        )
        .finally(() => inFlight.delete(running));
      inFlight.add(running);
    },
    idle: async () => {
      while (inFlight.size > 0) await Promise.allSettled(inFlight);
    },
    close: async () => {
      while (inFlight.size > 0) await Promise.allSettled(inFlight);
      await worker.close();
    },
  };
}
